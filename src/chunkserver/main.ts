/**
 * fst-chunkserver: the command line. Resolves flags, environment and config file
 * (src/chunkserver/config-keys.ts) into ChunkserverOptions, starts the daemon and installs the
 * signal handlers. Bad input prints one line and exits 2; a failed start exits 1.
 */
import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import { daemonCommand, isHelpExit, loadDaemonConfig, parseCommandLine, startupErrorMessage } from '../common/config/daemon-cli.js';
import { installSignalHandlers } from '../common/lifecycle/service.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../common/log/logger.js';
import { startChunkserver, type Chunkserver } from './chunkserver.js';
import { CHUNKSERVER_CONFIG_KEYS } from './config-keys.js';
import { compileOptions, type ChunkserverOptions } from './options.js';

const NAME = 'fst-chunkserver';

/**
 * Parses argv (process.argv: node, script, args...) with `env` (FST_* variables, FST_CONFIG) into
 * options; throws FsError EINVAL (or commander's error) naming the bad key or flag.
 */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): { options: ChunkserverOptions; logLevel: LogLevel } {
  const program = daemonCommand(NAME, 'FST chunkserver: stores chunks on local disks and serves them to clients and peers', CHUNKSERVER_CONFIG_KEYS)
    .allowExcessArguments(false)
    .showSuggestionAfterError(false);
  const c = loadDaemonConfig(CHUNKSERVER_CONFIG_KEYS, parseCommandLine(program, CHUNKSERVER_CONFIG_KEYS, argv, env), env);
  const options: ChunkserverOptions = {
    master: c.string('master'),
    dataDirs: c.list('data'),
    listen: c.string('listen'),
    advertise: c.optionalString('advertise'),
    rack: c.optionalString('rack'),
    reserveBytes: c.number('reserve'),
    scrubRateBytes: Math.round(c.number('scrub-rate-mib') * 1024 * 1024),
    scrubIntervalMs: c.number('scrub-interval-ms'),
    metricsListen: c.optionalString('metrics-listen'),
    credentials: c.optionalString('credentials'),
    writeIdleMs: c.number('write-idle-ms'),
  };
  compileOptions(options); // reports duplicate directories here, as usage errors
  return { options, logLevel: c.choice('log-level', LOG_LEVELS) };
}

/** Entry point of bin/fst-chunkserver.js. */
export async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (isHelpExit(e)) {
      process.exitCode = 0;
      return;
    }
    process.stderr.write(`${NAME}: ${startupErrorMessage(e)}\n`);
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
