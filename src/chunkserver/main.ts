/**
 * fst-chunkserver: the command line. Parses flags into ChunkserverOptions, starts the daemon and
 * installs the signal handlers. Bad input prints one line and exits 2; a failed start exits 1.
 */
import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import { Command, CommanderError, Option } from 'commander';
import { FsError } from '../common/errors/errno.js';
import { installSignalHandlers } from '../common/lifecycle/service.js';
import { createLogger, type LogLevel } from '../common/log/logger.js';
import { startChunkserver, type Chunkserver } from './chunkserver.js';
import { compileOptions, type ChunkserverOptions } from './options.js';

const NAME = 'fst-chunkserver';
const LOG_LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

interface Flags {
  master?: string;
  data: string[];
  listen?: string;
  advertise?: string;
  rack?: string;
  reserve?: string;
  scrubRateMib: string;
  scrubIntervalMs: string;
  logLevel: LogLevel;
}

function usageError(message: string): never {
  throw new FsError('EINVAL', message);
}

/** Parses argv (process.argv: node, script, args...) into options; throws on bad input. */
export function parseArgs(argv: string[]): { options: ChunkserverOptions; logLevel: LogLevel } {
  const program = new Command(NAME)
    .description('FST chunkserver: stores chunks on local disks and serves them to clients and peers')
    .option('--master <host:port>', 'master address (default: $FST_MASTER)')
    .option('--data <dir>', 'data directory; repeat for several disks', (v: string, acc: string[]) => [...acc, v], [])
    .option('--listen <host:port>', 'address to listen on (port 0 picks a free port)')
    .option('--advertise <host:port>', 'address clients and peers use (default: the listen address)')
    .option('--rack <name>', 'rack name, a placement hint for the master')
    .option('--reserve <bytes>', 'bytes to keep free on every data directory', '0')
    .option('--scrub-rate-mib <n>', 'MiB per second the scrubber reads to verify checksums (0 disables it)', '4')
    .option('--scrub-interval-ms <n>', 'rest between two scrub passes, in ms', '3600000')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default(
      (process.env.FST_LOG_LEVEL as LogLevel | undefined) ?? 'info'))
    .allowExcessArguments(false)
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  program.parse(argv);
  const f = program.opts<Flags>();
  if (!f.listen) usageError('missing --listen HOST:PORT');
  const reserveBytes = Number(f.reserve);
  if (!Number.isSafeInteger(reserveBytes) || reserveBytes < 0) usageError(`invalid --reserve '${f.reserve}'`);
  const scrubRateMib = Number(f.scrubRateMib);
  if (f.scrubRateMib.trim() === '' || !Number.isFinite(scrubRateMib) || scrubRateMib < 0) usageError(`invalid --scrub-rate-mib '${f.scrubRateMib}'`);
  const scrubIntervalMs = Number(f.scrubIntervalMs);
  if (f.scrubIntervalMs.trim() === '' || !Number.isSafeInteger(scrubIntervalMs) || scrubIntervalMs < 0) {
    usageError(`invalid --scrub-interval-ms '${f.scrubIntervalMs}'`);
  }
  const options: ChunkserverOptions = {
    master: f.master, dataDirs: f.data, listen: f.listen, advertise: f.advertise, rack: f.rack, reserveBytes,
    scrubRateBytes: Math.round(scrubRateMib * 1024 * 1024), scrubIntervalMs,
  };
  compileOptions(options); // reports bad addresses and missing directories here, as usage errors
  return { options, logLevel: f.logLevel };
}

/** Entry point of bin/fst-chunkserver.js. */
export async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (e instanceof CommanderError && (e.exitCode === 0 || e.code === 'commander.helpDisplayed')) {
      process.exitCode = 0;
      return;
    }
    const message = e instanceof Error ? e.message.replace(/^error: /, '').split('\n')[0] : String(e);
    process.stderr.write(`${NAME}: ${message}\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger('chunkserver', parsed.logLevel);
  // grpc-js prints its own errors as plain text; keep stderr one JSON object per line.
  const grpcLog = (...args: unknown[]): void => log.warn('grpc', { detail: format(...args) });
  setLogger({ error: grpcLog, info: grpcLog, debug: grpcLog });
  let cs: Chunkserver;
  try {
    cs = await startChunkserver({ ...parsed.options, logger: log });
  } catch (err) {
    log.error('start failed', { err });
    process.exitCode = 1;
    return;
  }
  installSignalHandlers((signal) => cs.stop(signal), log);
  const reason = await cs.closed();
  if (reason.kind === 'failed') {
    log.error('chunkserver failed', { err: reason.error });
    process.exit(1);
  }
}
