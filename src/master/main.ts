/**
 * `fst-master` command line: flags, environment and config file (src/master/config-keys.ts) ->
 * MasterOptions -> a running daemon until SIGINT/SIGTERM. Invalid configuration exits 2 with one
 * line naming the key; a failed start exits 1.
 */
import { daemonCommand, exitOnStartupError, loadDaemonConfig, parseCommandLine } from '../common/config/daemon-cli.js';
import type { ConfigValues } from '../common/config/config-values.js';
import { installSignalHandlers } from '../common/lifecycle/service.js';
import { createLogger, LOG_LEVELS } from '../common/log/logger.js';
import { MASTER_CONFIG_KEYS, SYNC_MODES } from './config-keys.js';
import type { MasterOptions } from './master.js';
import { runMaster } from './ha/master-runner.js';

const NAME = 'fst-master';

function readConfig(argv: string[], env: NodeJS.ProcessEnv): ConfigValues {
  const program = daemonCommand(NAME, 'FST metadata daemon: the directory tree, the chunk map and the chunkserver registry', MASTER_CONFIG_KEYS)
    .allowExcessArguments(false);
  return loadDaemonConfig(MASTER_CONFIG_KEYS, parseCommandLine(program, MASTER_CONFIG_KEYS, argv, env), env);
}

function masterOptions(c: ConfigValues): Omit<MasterOptions, 'log'> {
  return {
    dataDir: c.string('data'),
    meta: c.optionalString('meta'),
    listen: c.string('listen'),
    advertise: c.optionalString('advertise'),
    masterLeaseMs: c.number('master-lease-ms'),
    replication: c.number('replication'),
    heartbeatIntervalMs: c.number('heartbeat-interval-ms'),
    deadAfterMs: c.number('dead-after-ms'),
    gcIntervalMs: c.number('gc-interval-ms'),
    leaseMs: c.number('lease-ms'),
    replaceAfterMs: c.number('replace-after-ms'),
    replicationRateBytes: c.number('replication-rate-mib') * 1024 * 1024,
    replicationConcurrency: c.number('replication-concurrency'),
    replicationIntervalMs: c.number('replication-interval-ms'),
    sync: c.choice('sync', SYNC_MODES),
    inlineMaxBytes: c.number('inline-max'),
    metricsListen: c.optionalString('metrics-listen'),
    insecure: c.boolean('insecure'),
    restoreFrom: c.optionalString('restore'),
    loadFrom: c.optionalString('load'),
    backupDir: c.optionalString('backup-dir'),
    backupIntervalMs: c.number('backup-interval') * 60_000,
    backupKeep: c.number('backup-keep'),
  };
}

export async function main(argv: string[]): Promise<void> {
  let config: ConfigValues;
  try {
    config = readConfig(argv, process.env);
  } catch (e) {
    exitOnStartupError(NAME, e);
  }
  const log = createLogger(NAME, config.choice('log-level', LOG_LEVELS));
  let master;
  try {
    master = await runMaster(masterOptions(config), log);
  } catch (e) {
    process.stderr.write(`${NAME}: cannot start: ${(e as Error).message}\n`);
    process.exit(1);
  }
  installSignalHandlers((signal) => master.stop(signal), log);
}
