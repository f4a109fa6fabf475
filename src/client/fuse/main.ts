/**
 * `fst-mount` command line:
 *   fst-mount [--master HOST:PORT] [MOUNTPOINT] [options]       (MOUNTPOINT defaults to /mnt/fst)
 *   fst-mount HOST:PORT MOUNTPOINT -o allow_other,...           (the form mount(8) uses for fstab)
 * Without --foreground it mounts, then detaches once the mount is ready (as mount helpers do).
 */
import { spawn } from 'node:child_process';
import { Command, InvalidArgumentError, Option } from 'commander';
import { describeErrno } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { parseHostPort } from '../../common/config/address.js';
import { installSignalHandlers } from '../../common/lifecycle/service.js';
import { createLogger, type LogLevel } from '../../common/log/logger.js';
import { startMount } from './mount.js';

const MiB = 1024 * 1024;

function positive(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative number`);
    return n;
  };
}

interface Flags {
  master?: string;
  foreground: boolean;
  allowOther: boolean;
  o?: string;
  masterTimeout: number;
  entryTimeout: number;
  attrTimeout: number;
  cacheSize: number;
  readAhead: number;
  writebackBudget: number;
  logLevel: LogLevel;
}

/** -o options from fstab: the ones FST understands; the generic ones (rw, _netdev, ...) pass. */
function applyDashO(flags: Flags, list: string | undefined): void {
  for (const opt of (list ?? '').split(',').filter(Boolean)) {
    const [key, value] = opt.split('=', 2);
    if (key === 'allow_other') flags.allowOther = true;
    else if (key === 'master' && value) flags.master = value;
    else if (key === 'foreground') flags.foreground = true;
  }
}

function fail(message: string, code = 1): never {
  process.stderr.write(`fst-mount: ${message}\n`);
  process.exit(code);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('fst-mount')
    .description('Mount an FST cluster as a directory')
    .argument('[args...]', '[MASTER] MOUNTPOINT (default /mnt/fst)')
    .option('--master <host:port>', 'master address (or FST_MASTER)')
    .option('-f, --foreground', 'stay in the foreground', false)
    .option('--allow-other', 'let other users use the mount (needs user_allow_other in /etc/fuse.conf for non-root)', false)
    .option('-o <options>', 'mount options, comma separated (allow_other, master=HOST:PORT; others are ignored)')
    .option('--master-timeout <seconds>', 'how long calls wait for an unreachable master or chunkserver before failing with EIO', positive('--master-timeout'), 60)
    .option('--entry-timeout <seconds>', 'how long names are cached (by the kernel and fst-mount)', positive('--entry-timeout'), 1)
    .option('--attr-timeout <seconds>', 'how long the kernel caches attributes (0: always ask fst-mount, which caches them per inode)', positive('--attr-timeout'), 0)
    .option('--cache-size <MiB>', 'read cache shared by all open files', positive('--cache-size'), 256)
    .option('--read-ahead <MiB>', 'largest read-ahead window per open file', positive('--read-ahead'), 32)
    .option('--writeback-budget <MiB>', 'most unwritten data buffered by the mount (all open files together); writes wait beyond it', positive('--writeback-budget'), 512)
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']).default(process.env.FST_LOG_LEVEL ?? 'info'))
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `fst-mount: ${s}` : s) });
  program.parse(argv);
  const flags = program.opts<Flags>();
  applyDashO(flags, flags.o);
  const args = program.args;
  if (args.length > 2) fail(`too many arguments: ${args.join(' ')}`, 2);
  let mountpoint = args[args.length - 1] ?? '/mnt/fst';
  if (args.length === 2) flags.master = args[0];
  if (args.length === 1 && /^[^/]+:\d+$/.test(args[0]!)) {
    flags.master = args[0];
    mountpoint = '/mnt/fst';
  }
  const master = flags.master ?? process.env.FST_MASTER;
  if (!master) fail('no master address: pass --master HOST:PORT or set FST_MASTER', 2);
  try {
    parseHostPort(master, 'master address');
  } catch (e) {
    fail((e as Error).message, 2);
  }

  if (!flags.foreground) return detach(argv);

  const log = createLogger('fst-mount', flags.logLevel);
  let mount;
  try {
    mount = await startMount({
      master, mountpoint, allowOther: flags.allowOther, masterTimeoutMs: flags.masterTimeout * 1000, entryTimeoutSec: flags.entryTimeout, attrTimeoutSec: flags.attrTimeout,
      cacheBytes: flags.cacheSize * MiB, read: { readAheadBytes: Math.max(4, flags.readAhead) * MiB }, writeback: { budgetBytes: Math.min(128, Math.max(1, flags.writebackBudget)) * MiB },
      writebackMemoryBytes: Math.max(1, flags.writebackBudget) * MiB, log,
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
