/** `fst-master` command line: flags -> MasterOptions -> a running daemon until SIGINT/SIGTERM. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseHostPort } from '../common/config/address.js';
import { installSignalHandlers } from '../common/lifecycle/service.js';
import { createLogger, type LogLevel } from '../common/log/logger.js';
import { startMaster } from './master.js';

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
    return n;
  };
}

function hostPort(v: string): string {
  try {
    parseHostPort(v);
    return v;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('fst-master')
    .description('FST metadata daemon: the directory tree, the chunk map and the chunkserver registry')
    .requiredOption('--data <dir>', 'directory for the metadata database')
    .option('--listen <host:port>', 'address to serve gRPC on', hostPort, '127.0.0.1:9420')
    .option('--replication <n>', 'default replication goal of new files', positiveInt('--replication'), 2)
    .option('--heartbeat-interval-ms <ms>', 'how often chunkservers beat', positiveInt('--heartbeat-interval-ms'), 1000)
    .option('--dead-after-ms <ms>', 'a chunkserver silent this long is dead', positiveInt('--dead-after-ms'), 10000)
    .option('--gc-interval-ms <ms>', 'pause between chunk garbage collection passes', positiveInt('--gc-interval-ms'), 5000)
    .option('--lease-ms <ms>', "how long a chunk's primary holds its write lease (extended while writes go on)", positiveInt('--lease-ms'), 60000)
    .option('--replace-after-ms <ms>', "copy a dead chunkserver's replicas elsewhere once it has been dead this long", positiveInt('--replace-after-ms'), 600000)
    .option('--replication-rate-mib <n>', 'most MiB per second that re-replication copies', positiveInt('--replication-rate-mib'), 100)
    .option('--replication-concurrency <n>', 're-replication copies running at once', positiveInt('--replication-concurrency'), 2)
    .option('--replication-interval-ms <ms>', 'pause between re-replication passes', positiveInt('--replication-interval-ms'), 2000)
    .addOption(new Option('--sync <mode>', "metadata durability: 'normal' survives master crashes, 'full' fsyncs every commit and survives power loss").choices(['normal', 'full']).default('normal'))
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']).default(process.env.FST_LOG_LEVEL ?? 'info'))
    .showHelpAfterError('(run fst-master --help for usage)')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
  program.parse(argv);
  const o = program.opts<{ data: string; listen: string; replication: number; heartbeatIntervalMs: number; deadAfterMs: number; gcIntervalMs: number; leaseMs: number; replaceAfterMs: number; replicationRateMib: number; replicationConcurrency: number; replicationIntervalMs: number; sync: 'normal' | 'full'; logLevel: LogLevel }>();
  const log = createLogger('fst-master', o.logLevel);
  let master;
  try {
    master = await startMaster({ dataDir: o.data, listen: o.listen, replication: o.replication, heartbeatIntervalMs: o.heartbeatIntervalMs, deadAfterMs: o.deadAfterMs, gcIntervalMs: o.gcIntervalMs,
      leaseMs: o.leaseMs, replaceAfterMs: o.replaceAfterMs, replicationRateBytes: o.replicationRateMib * 1024 * 1024,
      replicationConcurrency: o.replicationConcurrency, replicationIntervalMs: o.replicationIntervalMs, sync: o.sync, log });
  } catch (e) {
    process.stderr.write(`fst-master: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  installSignalHandlers((signal) => master.stop(signal), log);
}
