/**
 * The patched fuse-native binding (patches/fuse-native+2.2.6.patch, rebuilt by
 * scripts/build-fuse-native.sh): a tiny in-memory filesystem mounted straight on fuse-native, seen
 * through the kernel by the shell (touch, stat) and by node:fs. Checks that utimens gets both times
 * with nanoseconds and UTIME_NOW / UTIME_OMIT, that stat times keep their nanoseconds (and the
 * 2.2.6 Date / milliseconds forms still work), and that a 64-bit inode number survives.
 *
 * The FUSE thread waits for this process's event loop to answer each request, so nothing here may
 * block the main thread on the mount: shell commands run asynchronously, and the synchronous
 * node:fs calls run in a worker thread.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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
type Done<T = void> = T extends void ? (err: number) => void : (err: number, value?: T) => void;
interface FuseOps {
  getattr(path: string, cb: (err: number, stat?: FuseStat) => void): void;
  readdir(path: string, cb: (err: number, names?: string[], stats?: FuseStat[]) => void): void;
  open(path: string, flags: number, cb: Done<number>): void;
  release(path: string, fd: number, cb: Done): void;
  utimens(path: string, atime: UtimeArg, mtime: UtimeArg, cb: Done): void;
}
interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
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

interface Node { ino: number; mode: number; atime: StatTime; mtime: StatTime; ctime: StatTime }

/** An in-memory tree of a root and a few files; records every utimens call. */
function memoryFs(): { ops: FuseOps; nodes: Map<string, Node>; utimens: { path: string; atime: UtimeArg; mtime: UtimeArg }[] } {
  const nodes = new Map<string, Node>([
    ['/', { ino: 1, mode: DIR, atime: INITIAL, mtime: INITIAL, ctime: INITIAL }],
    ['/file', { ino: 2, mode: FILE, atime: INITIAL, mtime: INITIAL, ctime: INITIAL }],
    ['/big-ino', { ino: BIG_INO, mode: FILE, atime: INITIAL, mtime: INITIAL, ctime: INITIAL }],
    // The 2.2.6 forms: a Date, and milliseconds (with a fractional part, which is now kept).
    ['/legacy', { ino: 4, mode: FILE, atime: new Date(981_173_106_789), mtime: 981_173_106_123.5, ctime: 0 }],
  ]);
  const utimens: { path: string; atime: UtimeArg; mtime: UtimeArg }[] = [];
  const toStat = (n: Node): FuseStat => ({ mode: n.mode, uid: 0, gid: 0, size: 0, nlink: 1, ino: n.ino, atime: n.atime, mtime: n.mtime, ctime: n.ctime });
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
    readdir(path, cb) {
      if (path !== '/') return cb(Fuse.ENOENT);
      const names = [...nodes.keys()].filter((p) => p !== '/').map((p) => p.slice(1));
      cb(0, names, names.map((name) => toStat(nodes.get(`/${name}`)!)));
    },
    open(_path, _flags, cb) { cb(0, 42); },
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
  return { ops, nodes, utimens };
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

describe('patched fuse-native: times and inode numbers', () => {
  let tmp = '';
  let mnt = '';
  let fuse: FuseInstance | undefined;
  let memfs: ReturnType<typeof memoryFs>;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fst-fuse-native-'));
    mnt = join(tmp, 'mnt');
    await mkdir(mnt);
    memfs = memoryFs();
    // use_ino: libfuse's high-level API drops st_ino without it. fuse-native has no option for it,
    // so it rides in fsname (the -o string is split on commas).
    const f = new Fuse(mnt, memfs.ops, { fsname: 'fsttest,use_ino' });
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
});
