/**
 * The patched fuse-native binding (patches/fuse-native+2.2.6.patch, rebuilt by
 * scripts/build-fuse-native.sh): a tiny in-memory filesystem mounted straight on fuse-native, seen
 * through the kernel by the shell (touch, stat) and by node:fs. Checks that utimens gets both times
 * with nanoseconds and UTIME_NOW / UTIME_OMIT, that stat times keep their nanoseconds (and the
 * 2.2.6 Date / milliseconds forms still work), that a 64-bit inode number survives, that
 * `fuse.context()` gives each handler its caller (a file created by another uid), that fgetattr
 * gets the descriptor, and that statfs counts above 2^32 reach statfs(2).
 *
 * The FUSE thread waits for this process's event loop to answer each request, so nothing here may
 * block the main thread on the mount: shell commands run asynchronously, and the synchronous
 * node:fs calls run in a worker thread.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** { sec, nsec }: the nanosecond time form of the patched binding. */
interface Timespec { sec: number; nsec: number }
type StatTime = Date | number | Timespec;
type UtimeArg = Timespec | 'now' | 'omit';
interface FuseStat {
  mode: number; uid: number; gid: number; size: number; nlink: number; ino: number;
  atime: StatTime; mtime: StatTime; ctime: StatTime;
}
interface FuseStatfs {
  bsize: number; frsize: number; blocks: number; bfree: number; bavail: number;
  files: number; ffree: number; favail: number; namemax: number;
}
type Done<T = void> = T extends void ? (err: number) => void : (err: number, value?: T) => void;
interface FuseOps {
  getattr(path: string, cb: (err: number, stat?: FuseStat) => void): void;
  fgetattr(path: string, fd: number, cb: (err: number, stat?: FuseStat) => void): void;
  readdir(path: string, cb: (err: number, names?: string[], stats?: FuseStat[]) => void): void;
  open(path: string, flags: number, cb: Done<number>): void;
  create(path: string, mode: number, cb: Done<number>): void;
  release(path: string, fd: number, cb: Done): void;
  utimens(path: string, atime: UtimeArg, mtime: UtimeArg, cb: Done): void;
  ftruncate(path: string, fd: number, size: number, cb: Done): void;
  statfs(path: string, cb: (err: number, statfs?: FuseStatfs) => void): void;
}
/** What the patched `fuse.context()` returns: the caller of the request being handled. */
interface Caller { uid: number; gid: number; pid: number }
interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
  context(): Caller;
}
interface FuseModule {
  new (mnt: string, ops: FuseOps, opts: Record<string, unknown>): FuseInstance;
  ENOENT: number;
}

// The one place outside src/client/fuse that loads fuse-native, on purpose: this test checks the
// binding itself. It ships no type declarations, so it is loaded through require (which also keeps
// the no-restricted-imports rule, aimed at `import`, quiet) and typed for the slice used here.
const Fuse = createRequire(import.meta.url)('fuse-native') as FuseModule;
const run = promisify(execFile);

const BIG_INO = 2 ** 40 + 5;
const DIR = 0o040755;
const FILE = 0o100644;
/** 2001-02-03 04:05:06 UTC, the time the touch tests set. */
const T_2001 = Date.UTC(2001, 1, 3, 4, 5, 6) / 1000;
const INITIAL: Timespec = { sec: 1_000_000_000, nsec: 111_111_111 }; // 2001-09-09 01:46:40.111111111
/** The descriptors open and create hand out. */
const OPEN_FD = 42;
const CREATE_FD = 43;
/** Counts above 2^32 in every 64-bit statfs field (2^40 blocks of 4 KiB: 4 PiB). */
const STATFS: FuseStatfs = {
  bsize: 4096, frsize: 4096, blocks: 2 ** 40, bfree: 2 ** 40 - 7, bavail: 2 ** 33 + 1,
  files: 2 ** 35, ffree: 2 ** 34 + 3, favail: 2 ** 34, namemax: 255,
};

interface Node { ino: number; mode: number; uid: number; gid: number; atime: StatTime; mtime: StatTime; ctime: StatTime }
/** One call seen by the memory filesystem, with what `fuse.context()` said inside the handler. */
interface Call { op: string; path: string; fd?: number; caller: Caller }

/**
 * An in-memory tree of a root and a few files; records every utimens call, and every create,
 * fgetattr and ftruncate call with its caller. A created file belongs to its caller.
 */
function memoryFs(context: () => Caller) {
  const node = (ino: number, mode: number, atime: StatTime = INITIAL, mtime: StatTime = INITIAL, ctime: StatTime = INITIAL): Node =>
    ({ ino, mode, uid: 0, gid: 0, atime, mtime, ctime });
  const nodes = new Map<string, Node>([
    ['/', node(1, DIR)],
    ['/file', node(2, FILE)],
    ['/big-ino', node(BIG_INO, FILE)],
    // The 2.2.6 forms: a Date, and milliseconds (with a fractional part, which is now kept).
    ['/legacy', node(4, FILE, new Date(981_173_106_789), 981_173_106_123.5, 0)],
  ]);
  const utimens: { path: string; atime: UtimeArg; mtime: UtimeArg }[] = [];
  const calls: Call[] = [];
  /** What context() did once the create handler had returned: it must throw. */
  const afterHandler: string[] = [];
  const toStat = (n: Node): FuseStat => ({ mode: n.mode, uid: n.uid, gid: n.gid, size: 0, nlink: 1, ino: n.ino, atime: n.atime, mtime: n.mtime, ctime: n.ctime });
  const nowTs = (): Timespec => {
    const ms = Date.now();
    return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
  };
  const ops: FuseOps = {
    getattr(path, cb) {
      const n = nodes.get(path);
      if (!n) return cb(Fuse.ENOENT);
      cb(0, toStat(n));
    },
    fgetattr(path, fd, cb) {
      calls.push({ op: 'fgetattr', path, fd, caller: context() });
      const n = nodes.get(path);
      if (!n) return cb(Fuse.ENOENT);
      cb(0, toStat(n));
    },
    create(path, mode, cb) {
      const caller = context();
      calls.push({ op: 'create', path, caller });
      nodes.set(path, { ...node(nodes.size + 1, mode), uid: caller.uid, gid: caller.gid });
      queueMicrotask(() => {
        try {
          afterHandler.push(`returned ${JSON.stringify(context())}`);
        } catch {
          afterHandler.push('threw');
        }
        cb(0, CREATE_FD);
      });
    },
    ftruncate(path, fd, _size, cb) {
      calls.push({ op: 'ftruncate', path, fd, caller: context() });
      cb(0);
    },
    statfs(_path, cb) { cb(0, STATFS); },
    readdir(path, cb) {
      if (path !== '/') return cb(Fuse.ENOENT);
      const names = [...nodes.keys()].filter((p) => p !== '/').map((p) => p.slice(1));
      cb(0, names, names.map((name) => toStat(nodes.get(`/${name}`)!)));
    },
    open(_path, _flags, cb) { cb(0, OPEN_FD); },
    release(_path, _fd, cb) { cb(0); },
    utimens(path, atime, mtime, cb) {
      utimens.push({ path, atime, mtime });
      const n = nodes.get(path);
      if (!n) return cb(Fuse.ENOENT);
      const now = nowTs();
      if (atime !== 'omit') n.atime = atime === 'now' ? now : atime;
      if (mtime !== 'omit') n.mtime = mtime === 'now' ? now : mtime;
      n.ctime = now;
      cb(0);
    },
  };
  return { ops, nodes, utimens, calls, afterHandler };
}

async function isMounted(mnt: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === mnt);
}

/** Unmounts through fuse-native, then by force with fusermount if the mount is still there. */
async function unmount(fuse: FuseInstance | undefined, mnt: string): Promise<void> {
  if (fuse) await new Promise<void>((resolve) => fuse.unmount(() => resolve()));
  if (await isMounted(mnt)) await run('fusermount', ['-u', '-z', mnt]).catch(() => undefined);
}

/** Runs a command with a fixed time zone and locale, so stat prints UTC. */
async function sh(cmd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  return stdout.trim();
}

/** fs.utimesSync (optional) then fs.statSync(..., { bigint: true }), in a worker thread. */
function syncStatInWorker(path: string, times?: [number, number]): Promise<{ ino: bigint; atimeNs: bigint; mtimeNs: bigint }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const fs = require('node:fs');
    if (workerData.times) fs.utimesSync(workerData.path, workerData.times[0], workerData.times[1]);
    const st = fs.statSync(workerData.path, { bigint: true });
    parentPort.postMessage({ ino: st.ino, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { path, times } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const ns = (t: Timespec): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);

describe('patched fuse-native', () => {
  let tmp = '';
  let mnt = '';
  let fuse: FuseInstance | undefined;
  let memfs: ReturnType<typeof memoryFs>;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fst-fuse-native-'));
    await chmod(tmp, 0o755); // so that another uid can reach the mount point
    mnt = join(tmp, 'mnt');
    await mkdir(mnt);
    // Handlers run only once mounted, so `f` is set by the time they ask for the caller.
    memfs = memoryFs(() => f.context());
    // use_ino: libfuse's high-level API drops st_ino without it. fuse-native has no option for it,
    // so it rides in fsname (the -o string is split on commas). allow_other: let another uid in
    // (the test runs as root, which needs no user_allow_other in /etc/fuse.conf).
    const f = new Fuse(mnt, memfs.ops, { fsname: 'fsttest,use_ino', allowOther: true });
    await new Promise<void>((resolve, reject) => f.mount((err) => (err ? reject(err) : resolve())));
    fuse = f;
  });

  afterEach(async () => {
    await unmount(fuse, mnt);
    fuse = undefined;
    if (await isMounted(mnt)) throw new Error(`${mnt} is still mounted`);
    await rm(tmp, { recursive: true, force: true });
  });

  it('touch -m -d sets only the mtime, with nanoseconds', async () => {
    const file = join(mnt, 'file');
    await sh('touch', '-m', '-d', '2001-02-03 04:05:06.123456789', file);
    expect(memfs.utimens).toEqual([{ path: '/file', atime: 'omit', mtime: { sec: T_2001, nsec: 123_456_789 } }]);
    expect(await sh('stat', '-c', '%y', file)).toBe('2001-02-03 04:05:06.123456789 +0000');
    expect(await sh('stat', '-c', '%x', file)).toBe('2001-09-09 01:46:40.111111111 +0000');
    const st = await stat(file, { bigint: true });
    expect(st.mtimeNs).toBe(ns({ sec: T_2001, nsec: 123_456_789 }));
    expect(st.atimeNs).toBe(ns(INITIAL));
  });

  it('touch -a -d sets only the atime', async () => {
    const file = join(mnt, 'file');
    await sh('touch', '-a', '-d', '2001-02-03 04:05:06.987654321', file);
    expect(memfs.utimens).toEqual([{ path: '/file', atime: { sec: T_2001, nsec: 987_654_321 }, mtime: 'omit' }]);
    expect(await sh('stat', '-c', '%x', file)).toBe('2001-02-03 04:05:06.987654321 +0000');
    expect(await sh('stat', '-c', '%y', file)).toBe('2001-09-09 01:46:40.111111111 +0000');
  });

  it('plain touch sets both times to now (UTIME_NOW)', async () => {
    const file = join(mnt, 'file');
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    await sh('touch', file);
    const after = BigInt(Date.now() + 1000) * 1_000_000n;
    expect(memfs.utimens).toEqual([{ path: '/file', atime: 'now', mtime: 'now' }]);
    const st = await stat(file, { bigint: true });
    for (const t of [st.atimeNs, st.mtimeNs]) {
      expect(t).toBeGreaterThan(before);
      expect(t).toBeLessThan(after);
    }
  });

  it('times before 1970 keep their sign both ways', async () => {
    const file = join(mnt, 'file');
    await sh('touch', '-m', '-d', '1969-12-31 23:59:58.5', file);
    expect(memfs.utimens).toEqual([{ path: '/file', atime: 'omit', mtime: { sec: -2, nsec: 500_000_000 } }]);
    expect(await sh('stat', '-c', '%y', file)).toBe('1969-12-31 23:59:58.500000000 +0000');
  });

  it('fs.utimesSync with fractional seconds keeps sub-millisecond precision', async () => {
    // Node passes seconds as a double and libuv cuts them to whole microseconds (uv__fs_to_timespec).
    const atime = 1_234_567_890.123456;
    const mtime = 1_234_567_891.654321;
    const st = await syncStatInWorker(join(mnt, 'file'), [atime, mtime]);
    const [call] = memfs.utimens;
    expect(call?.atime).toMatchObject({ sec: 1_234_567_890 });
    expect(call?.mtime).toMatchObject({ sec: 1_234_567_891 });
    const near = (got: bigint, want: bigint): boolean => (got > want ? got - want : want - got) < 2_000n;
    expect(near(st.atimeNs, 1_234_567_890_123_456_000n), String(st.atimeNs)).toBe(true);
    expect(near(st.mtimeNs, 1_234_567_891_654_321_000n), String(st.mtimeNs)).toBe(true);
    expect(st.atimeNs % 1_000_000n).not.toBe(0n); // 2.2.6 cut times to whole milliseconds
  });

  it('an inode number above 2^32 reaches stat and readdir', async () => {
    const file = join(mnt, 'big-ino');
    expect(await sh('stat', '-c', '%i', file)).toBe(String(BIG_INO));
    expect((await syncStatInWorker(file)).ino).toBe(BigInt(BIG_INO));
    expect((await stat(file, { bigint: true })).ino).toBe(BigInt(BIG_INO));
    // d_ino from readdir (os.scandir's inode() is the dirent's, not a stat).
    const listing = await sh('python3', '-c', 'import os, sys\nfor e in os.scandir(sys.argv[1]): print(e.name, e.inode())', mnt);
    expect(listing.split('\n').sort()).toEqual([`big-ino ${BIG_INO}`, 'file 2', 'legacy 4']);
  });

  it('still accepts the 2.2.6 time forms: Date and (fractional) milliseconds', async () => {
    const file = join(mnt, 'legacy');
    expect(await sh('stat', '-c', '%x|%y|%z', file)).toBe(
      '2001-02-03 04:05:06.789000000 +0000|2001-02-03 04:05:06.123500000 +0000|1970-01-01 00:00:00.000000000 +0000',
    );
  });

  it('context() gives the create handler its caller: another uid, gid and pid', async () => {
    const file = join(mnt, 'by-1234');
    // setpriv execs touch, so the pid the kernel reports is the child's.
    const touching = run('setpriv', ['--reuid=1234', '--regid=5678', '--clear-groups', 'touch', file]);
    const pid = touching.child.pid;
    await touching;
    const caller = { uid: 1234, gid: 5678, pid };
    const creates = memfs.calls.filter((c) => c.op === 'create');
    expect(creates).toEqual([{ op: 'create', path: '/by-1234', caller }]);
    // libfuse answers create with fgetattr on the new descriptor, in the same request.
    expect(memfs.calls.filter((c) => c.op === 'fgetattr')).toContainEqual({ op: 'fgetattr', path: '/by-1234', fd: CREATE_FD, caller });
    expect(await sh('stat', '-c', '%u:%g', file)).toBe('1234:5678');
    // Once the handler has returned (here: in a microtask it queued), context() refuses to answer.
    expect(memfs.afterHandler).toEqual(['threw']);
    expect(() => fuse?.context()).toThrow(/outside an operation handler/);
  });

  it('fgetattr gets the open descriptor', async () => {
    // fstat(2) reaches getattr: Linux sends the file handle with GETATTR only when it revalidates
    // an open file's size (a read past it, lseek(SEEK_END)), and with the SETATTR of ftruncate(2),
    // which libfuse answers with fgetattr(path, fd) where it would otherwise call getattr(path).
    const script = 'import os, sys\nfd = os.open(sys.argv[1], os.O_RDWR)\nos.ftruncate(fd, 0)\nprint(os.getpid(), os.fstat(fd).st_ino)\nos.close(fd)';
    const [pid, ino] = (await run('python3', ['-c', script, join(mnt, 'file')])).stdout.trim().split(' ').map(Number);
    expect(ino).toBe(2);
    const caller = { uid: 0, gid: 0, pid };
    expect(memfs.calls).toEqual([
      { op: 'ftruncate', path: '/file', fd: OPEN_FD, caller },
      { op: 'fgetattr', path: '/file', fd: OPEN_FD, caller },
    ]);
  });

  it('statfs counts above 2^32 reach statfs(2)', async () => {
    expect(await sh('stat', '-f', '-c', '%b %f %a %c %d %S %l', mnt)).toBe(
      `${2 ** 40} ${2 ** 40 - 7} ${2 ** 33 + 1} ${2 ** 35} ${2 ** 34 + 3} 4096 255`,
    );
    const st = await statfs(mnt, { bigint: true });
    expect({ blocks: st.blocks, bfree: st.bfree, bavail: st.bavail, files: st.files, ffree: st.ffree }).toEqual({
      blocks: 2n ** 40n, bfree: 2n ** 40n - 7n, bavail: 2n ** 33n + 1n, files: 2n ** 35n, ffree: 2n ** 34n + 3n,
    });
  });
});
