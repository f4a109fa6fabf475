/**
 * `fst-gateway` command line: `fst-gateway --master HOST:PORT [--listen HOST:PORT] [--keys FILE]
 * [--credentials FILE] ...`. Every option is also an FST_* environment variable and a key of the
 * --config file (src/gateway/config-keys.ts).
 */
import { daemonCommand, exitOnStartupError, loadDaemonConfig, parseCommandLine } from '../common/config/daemon-cli.js';
import type { ConfigValues } from '../common/config/config-values.js';
import { describeErrno, FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import { installSignalHandlers } from '../common/lifecycle/service.js';
import { createLogger, LOG_LEVELS } from '../common/log/logger.js';
import type { AnonymousAccess } from './auth/authenticate.js';
import { GATEWAY_CONFIG_KEYS } from './config-keys.js';
import { startGateway, type Gateway } from './gateway.js';

const NAME = 'fst-gateway';

function readConfig(argv: string[], env: NodeJS.ProcessEnv): ConfigValues {
  const program = daemonCommand(NAME, 'Serve an FST cluster over HTTP: REST, S3 and a web dashboard', GATEWAY_CONFIG_KEYS);
  return loadDaemonConfig(GATEWAY_CONFIG_KEYS, parseCommandLine(program, GATEWAY_CONFIG_KEYS, argv, env), env);
}

function parseCaller(s: string): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(s);
  if (!m) throw new FsError('EINVAL', `anonymous-caller must be UID:GID, not '${s}'`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

export async function main(argv: string[]): Promise<void> {
  let c: ConfigValues;
  let caller: { uid: number; gid: number };
  try {
    c = readConfig(argv, process.env);
    caller = parseCaller(c.string('anonymous-caller'));
    if ((c.optionalString('tls-cert') === undefined) !== (c.optionalString('tls-key') === undefined)) throw new FsError('EINVAL', 'tls-cert and tls-key go together');
  } catch (e) {
    exitOnStartupError(NAME, e);
  }
  const log = createLogger(NAME, c.choice('log-level', LOG_LEVELS));
  const certFile = c.optionalString('tls-cert');
  const keyFile = c.optionalString('tls-key');
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      master: c.string('master'), listen: c.string('listen'), credentials: c.optionalString('credentials'), keys: c.optionalString('keys'),
      anonymous: c.choice<AnonymousAccess | 'auto'>('anonymous', ['auto', 'none', 'read', 'write']), anonymousCaller: caller,
      tls: certFile && keyFile ? { certFile, keyFile } : undefined, masterTimeoutMs: c.number('master-timeout') * 1000, log,
      metricsListen: c.optionalString('metrics-listen'),
    });
  } catch (e) {
    const err = toFsError(e);
    process.stderr.write(`${NAME}: cannot start: ${err.message} (${describeErrno(err.code)})\n`);
    process.exit(1);
  }
  installSignalHandlers((signal) => gateway.stop(signal), log);
  const reason = await gateway.closed();
  process.exit(reason.kind === 'stopped' ? 0 : 1);
}
