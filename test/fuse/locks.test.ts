/**
 * flock(2) and fcntl locks across two mounts of one cluster, compared with the same two processes
 * on a local file: a lock held through one mount blocks the other's as it does locally (flock -n
 * refused, byte ranges conflicting or not by overlap, F_GETLK naming the holder); a waiting flock
 * gets the lock once the holder lets go, and one interrupted by a handled signal (flock -w) gives
 * up; a holder killed with kill -9 frees its lock; so does a mount killed with kill -9, within its
 * lock lease. The holders are real processes (python's fcntl).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FuseMount, MountedCluster, sh } from '../helpers/fuse-mount.js';
import { waitFor } from '../helpers/probes.js';

/** Takes a lock (flock, or POSIX bytes 0-99) on argv[2], says "locked", lets go when told. */
const HOLDER = `
import fcntl, os, sys
kind, path = sys.argv[1], sys.argv[2]
f = open(path, 'r+')
if kind == 'flock':
    fcntl.flock(f, fcntl.LOCK_EX)
else:
    fcntl.lockf(f, fcntl.LOCK_EX, 100, 0)
print('locked', os.getpid(), flush=True)
sys.stdin.readline()
f.seek(0, 2)
f.write('A-end\\n')
f.flush()
`;

/** Tries, without waiting, what another process would; prints one line per attempt. */
const CHECKER = `
import fcntl, os, struct, sys
path, holder = sys.argv[1], int(sys.argv[2])
f = open(path, 'r+')
def attempt(name, fn):
    try:
        fn()
        print(name + ': ok')
    except OSError as e:
        print(name + ': ' + os.strerror(e.errno))
attempt('flock -n exclusive', lambda: fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB))
attempt('flock -n shared', lambda: fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB))
fcntl.flock(f, fcntl.LOCK_UN)
attempt('fcntl write 50-149', lambda: fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 50))
attempt('fcntl read 0-9', lambda: fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB, 10, 0))
attempt('fcntl write 100-199', lambda: fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 100))
got = struct.unpack('hhqqi', fcntl.fcntl(f, fcntl.F_GETLK, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 50, 1, 0)))
print('F_GETLK at 50: type', {fcntl.F_WRLCK: 'write', fcntl.F_RDLCK: 'read', fcntl.F_UNLCK: 'none'}[got[0]], 'start', got[2], 'len', got[3], 'by holder', got[4] == holder)
got = struct.unpack('hhqqi', fcntl.fcntl(f, fcntl.F_GETLK, struct.pack('hhqqi', fcntl.F_WRLCK, 0, 150, 10, 0)))
print('F_GETLK at 150: type', {fcntl.F_WRLCK: 'write', fcntl.F_RDLCK: 'read', fcntl.F_UNLCK: 'none'}[got[0]])
`;

interface Holder {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  release(): void;
}

const holders: ChildProcessWithoutNullStreams[] = [];

async function hold(kind: 'flock' | 'posix', path: string): Promise<Holder> {
  const child = spawn('python3', ['-c', HOLDER, kind, path]);
  holders.push(child);
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /locked (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code} before locking`)));
  });
  return { child, pid, release: () => child.stdin.write('go\n') };
}

const exited = (c: ChildProcessWithoutNullStreams): Promise<void> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', () => r()));

describe('mount: locks across mounts', () => {
  let mc: MountedCluster;
  let other: FuseMount;
  beforeAll(async () => {
    mc = await MountedCluster.start();
    other = await FuseMount.start(mc.cluster.masterAddress);
    await writeFile(`${mc.local}/checker.py`, CHECKER);
  });
  afterEach(async () => {
    for (const c of holders.splice(0)) {
      c.kill('SIGKILL');
      await exited(c);
    }
  });
  afterAll(async () => {
    await other?.stop();
    await mc?.stop();
  });

  it('makes a lock held on one mount refuse and allow what a local file does on another', async () => {
    // A file per kind: an flock of a process that exited goes when the kernel's asynchronous
    // release reaches the mount, a moment after the exit.
    const outcome = async (holderPath: string, checkerPath: string, kind: 'flock' | 'posix'): Promise<string> => {
      const h = await hold(kind, holderPath);
      const out = await sh(`python3 ${mc.local}/checker.py ${checkerPath} ${h.pid}`);
      h.release();
      await exited(h.child);
      return `${kind}\n${out}`;
    };
    for (const kind of ['flock', 'posix'] as const) {
      await writeFile(`${mc.local}/${kind}`, 'x'.repeat(300));
      await writeFile(mc.mount.path(kind), 'x'.repeat(300));
      const local = await outcome(`${mc.local}/${kind}`, `${mc.local}/${kind}`, kind);
      const across = await outcome(mc.mount.path(kind), other.path(kind), kind);
      expect(local).toMatch(kind === 'flock' ? /flock -n exclusive: Resource temporarily unavailable/ : /fcntl write 50-149: Resource temporarily unavailable/);
      expect(across.split('\n'), kind).toEqual(local.split('\n'));
    }
  });

  it('gives a waiting flock the lock once the holder lets go, and frees a killed holder\'s lock', async () => {
    await writeFile(mc.mount.path('g'), '');
    const h = await hold('flock', mc.mount.path('g'));
    // A waiter on the other mount appends once it has the lock.
    const waiter = spawn('flock', ['-x', other.path('g'), '-c', `echo B-got-it >> ${other.path('g')}`]);
    h.release();
    await new Promise<void>((resolve, reject) => waiter.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`flock exited ${code}`)))));
    expect(await readFile(mc.mount.path('g'), 'utf8')).toBe('A-end\nB-got-it\n');

    for (const kind of ['flock', 'posix'] as const) {
      const killed = await hold(kind, mc.mount.path('g'));
      const probe = kind === 'flock' ? `flock -n ${other.path('g')} true` : `python3 -c "import fcntl; fcntl.lockf(open('${other.path('g')}', 'r+'), fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)"`;
      await expect(sh(probe)).rejects.toThrow();
      killed.child.kill('SIGKILL');
      await exited(killed.child);
      await waitFor(`the ${kind} lock of a killed holder to go`, () => sh(probe).then(() => true), 30_000, 100);
    }
  });

  it('gives the next holder, on another mount, what the last one wrote before unlocking, its file still open', async () => {
    await writeFile(mc.mount.path('u'), '');
    // Writes under the lock, unlocks, and keeps the file open (its data not flushed by a close).
    const writer = spawn('python3', ['-c', `
import fcntl, sys
f = open(sys.argv[1], 'r+')
fcntl.lockf(f, fcntl.LOCK_EX)
f.write('written under the lock')
f.flush()
fcntl.lockf(f, fcntl.LOCK_UN)
print('unlocked', flush=True)
sys.stdin.readline()
`, mc.mount.path('u')]);
    holders.push(writer);
    await new Promise<void>((resolve, reject) => {
      writer.stdout.on('data', (d: Buffer) => d.toString().includes('unlocked') && resolve());
      writer.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
    });
    const read = await sh(`python3 -c "import fcntl; f = open('${other.path('u')}', 'r+'); fcntl.lockf(f, fcntl.LOCK_EX); print(f.read(), end='')"`);
    expect(read).toBe('written under the lock');
  });

  it('stops a wait the caller interrupts with a signal it handles (flock -w), as a local wait does', async () => {
    const outcome = async (holderPath: string, waiterPath: string): Promise<string> => {
      const h = await hold('flock', holderPath);
      // flock -w arms a timer whose handler interrupts the wait; exit 1 means it gave up. Were the
      // interrupt lost, the wait would last until the holder lets go, which it does only after.
      const code = await sh(`flock -w 1 -x ${waiterPath} true; echo $?`, undefined, 60_000);
      h.release();
      await exited(h.child);
      return `exit ${code.trim()}`;
    };
    await writeFile(`${mc.local}/w`, '');
    await writeFile(mc.mount.path('w'), '');
    const local = await outcome(`${mc.local}/w`, `${mc.local}/w`);
    expect(local).toBe('exit 1');
    expect(await outcome(mc.mount.path('w'), other.path('w'))).toBe(local);
  });

  it('frees the locks of a mount killed with kill -9 within its lease', async () => {
    const doomed = await FuseMount.start(mc.cluster.masterAddress);
    try {
      await writeFile(doomed.path('h'), 'x');
      const h = await hold('flock', doomed.path('h'));
      const probe = `flock -n ${other.path('h')} true`;
      await expect(sh(probe)).rejects.toThrow();
      await doomed.process.kill();
      // The master drops the dead mount's locks once its session stops renewing them (5 s).
      await waitFor('the locks of a dead mount to go', () => sh(probe).then(() => true), 30_000, 200);
      h.child.kill('SIGKILL');
    } finally {
      await doomed.stop();
    }
  });
});
