/**
 * `fst-mount` command line:
 *   fst-mount [--master HOST:PORT] [MOUNTPOINT] [options]       (MOUNTPOINT defaults to /mnt/fst)
 *   fst-mount HOST:PORT MOUNTPOINT -o allow_other,...           (the form mount(8) uses for fstab)
 * Without --foreground it mounts, then detaches once the mount is ready (as mount helpers do).
 * Every option is also an FST_* environment variable and a key of the --config file
 * (src/client/fuse/config-keys.ts); arguments and -o options count as flags.
 */
import { spawn } from 'node:child_process';
import { daemonCommand, exitOnStartupError, loadDaemonConfig, parseCommandLine, type CommandLine } from '../../common/config/daemon-cli.js';
import type { ConfigValues } from '../../common/config/config-values.js';
import { describeErrno, FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { installSignalHandlers } from '../../common/lifecycle/service.js';
import { createLogger, LOG_LEVELS } from '../../common/log/logger.js';
import { MOUNT_CONFIG_KEYS } from './config-keys.js';
import { startMount } from './mount.js';

const NAME = 'fst-mount';
const MiB = 1024 * 1024;

/** -o options from fstab: the ones FST understands become flags; the generic ones (rw, _netdev, ...) pass. */
function applyDashO(flags: Record<string, unknown>, list: unknown): void {
  for (const opt of (typeof list === 'string' ? list : '').split(',').filter(Boolean)) {
    const [key, value] = opt.split('=', 2);
    if (key === 'allow_other') flags['allow-other'] = true;
    else if (key === 'master' && value) flags.master = value;
    else if (key === 'credentials' && value) flags.credentials = value;
    else if (key === 'foreground') flags.foreground = true;
  }
}

/** `[MASTER] MOUNTPOINT` arguments count as flags: `fst-mount HOST:PORT DIR` is what mount(8) runs. */
function applyArguments(flags: Record<string, unknown>, args: string[]): void {
  if (args.length > 2) throw new FsError('EINVAL', `too many arguments: ${args.join(' ')}`);
  if (args.length === 2) [flags.master, flags.mountpoint] = args;
  else if (args.length === 1 && /^[^/]+:\d+$/.test(args[0]!)) flags.master = args[0];
  else if (args.length === 1) flags.mountpoint = args[0];
}

function readConfig(argv: string[], env: NodeJS.ProcessEnv): ConfigValues {
  const program = daemonCommand(NAME, 'Mount an FST cluster as a directory', MOUNT_CONFIG_KEYS)
    .argument('[args...]', '[MASTER] MOUNTPOINT (default /mnt/fst)')
    .option('-o <options>', 'mount options, comma separated (allow_other, master=HOST:PORT, credentials=FILE, foreground; others are ignored)');
  const cl: CommandLine = parseCommandLine(program, MOUNT_CONFIG_KEYS, argv, env);
  applyDashO(cl.flags, cl.opts.o);
  applyArguments(cl.flags, cl.args);
  return loadDaemonConfig(MOUNT_CONFIG_KEYS, cl, env);
}

function fail(message: string, code = 1): never {
  process.stderr.write(`${NAME}: ${message}\n`);
  process.exit(code);
}

export async function main(argv: string[]): Promise<void> {
  let c: ConfigValues;
  try {
    c = readConfig(argv, process.env);
  } catch (e) {
    exitOnStartupError(NAME, e);
  }
  if (!c.boolean('foreground')) return detach(argv);

  const log = createLogger(NAME, c.choice('log-level', LOG_LEVELS));
  const mountpoint = c.string('mountpoint');
  const writebackBudget = c.number('writeback-budget');
  let mount;
  try {
    mount = await startMount({
      master: c.string('master'), mountpoint, allowOther: c.boolean('allow-other'), masterTimeoutMs: c.number('master-timeout') * 1000,
      entryTimeoutSec: c.number('entry-timeout'), delegateDirs: c.boolean('delegate-dirs'), attrTimeoutSec: c.number('attr-timeout'), cacheBytes: c.number('cache-size') * MiB,
      requestPollMicros: c.number('request-poll'),
      read: { readAheadBytes: Math.max(4, c.number('read-ahead')) * MiB }, writeback: { budgetBytes: Math.min(128, Math.max(1, writebackBudget)) * MiB },
      writebackMemoryBytes: Math.max(1, writebackBudget) * MiB, metricsListen: c.optionalString('metrics-listen'), log,
      credentials: c.optionalString('credentials'),
    });
  } catch (e) {
    const err = toFsError(e);
    fail(`cannot mount ${mountpoint}: ${err.message} (${describeErrno(err.code)})`);
  }
  // Tell a detaching parent that the mount is up.
  if (process.env.FST_MOUNT_READY_FD === '1') process.stdout.write('ready\n');
  installSignalHandlers((signal) => mount.stop(signal), log);
  const reason = await mount.closed();
  process.exit(reason.kind === 'stopped' ? 0 : 1);
}

/** Runs the mount in a detached child and returns once it reports ready (or fails). */
async function detach(argv: string[]): Promise<void> {
  const child = spawn(process.execPath, [...process.execArgv, argv[1]!, ...argv.slice(2), '--foreground'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FST_MOUNT_READY_FD: '1' },
  });
  let errText = '';
  child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
  const ok = await new Promise<boolean>((res) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res(true));
    child.once('exit', () => res(false));
  });
  if (!ok) {
    const line = errText.split('\n').find((l) => l.startsWith('fst-mount:')) ?? errText.trim().split('\n').pop() ?? 'the mount process exited';
    fail(line.replace(/^fst-mount: /, ''));
  }
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  process.exit(0);
}
