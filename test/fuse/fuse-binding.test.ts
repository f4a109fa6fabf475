/**
 * The native FUSE binding (native/fuse-ll/fst_fuse.c over libfuse3's low-level API): a tiny
 * in-memory filesystem answering the raw requests, mounted for real and seen through the kernel by
 * the shell (touch, stat, ls, setpriv) and node:fs/promises. Checks what crosses the C boundary:
 * times with nanoseconds and UTIME_NOW / UTIME_OMIT, times before 1970, 64-bit inode numbers and
 * statfs counts, the caller of each request, the file handle of ftruncate, listings longer than one
 * kernel buffer, the per-answer cache timeouts, attribute invalidation, and the exit event of an
 * unmount done from outside.
 *
 * The requests are answered on this process's event loop, so nothing here may block the main
 * thread on the mount: shell commands and node:fs/promises run outside it.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Op, SetAttrBit, capMask, fuseBinding, type Session } from '../../src/client/fuse/binding.js';
import { ATTR_FIELDS } from '../../src/client/fuse/stat.js';
import { waitFor } from '../helpers/probes.js';

const run = promisify(execFile);
const b = fuseBinding();

const BIG_INO = 2 ** 40 + 5;
const DIR = 0o040755;
const FILE = 0o100644;
/** 2001-02-03 04:05:06 UTC, the time the touch tests set. */
const T_2001 = Date.UTC(2001, 1, 3, 4, 5, 6) / 1000;
const INITIAL = { sec: 1_000_000_000, nsec: 111_111_111 }; // 2001-09-09 01:46:40.111111111
const OPEN_FH = 42;
/** The handle the long directory's listing keeps (the binding sends it back, and releasedir). */
const DIR_FH = 7;
const MANY = 300;
/** Counts above 2^32 in every 64-bit statfs field (2^40 blocks of 4 KiB: 4 PiB). */
const STATFS = [4096, 4096, 2 ** 40, 2 ** 40 - 7, 2 ** 33 + 1, 2 ** 35, 2 ** 34 + 3, 2 ** 34, 255];

interface Timespec { sec: number; nsec: number }
interface Node { ino: number; mode: number; uid: number; gid: number; atime: Timespec; mtime: Timespec; ctime: Timespec; parent: number; name: string }
interface Call { op: number; ino: number; fh?: number; toSet?: number; atime?: Timespec; mtime?: Timespec; caller?: { uid: number; gid: number; pid: number }; name?: string }

/** An in-memory tree answering raw requests; records what arrived. */
function memoryFs(session: () => Session, timeoutSec: () => number) {
  const nodes = new Map<number, Node>();
  const add = (ino: number, mode: number, parent: number, name: string): void => {
    nodes.set(ino, { ino, mode, uid: 0, gid: 0, atime: { ...INITIAL }, mtime: { ...INITIAL }, ctime: { ...INITIAL }, parent, name });
  };
  add(1, DIR | 0o777, 1, '');
  add(2, FILE, 1, 'file');
  add(BIG_INO, FILE, 1, 'big-ino');
  add(3, DIR, 1, 'many');
  for (let i = 0; i < MANY; i++) add(100 + i, FILE, 3, `entry-${String(i).padStart(4, '0')}`);
  let nextIno = 1000;
  const calls: Call[] = [];
  const exits: number[] = [];
  const replies: { ino: number; offset: number; fitted: number }[] = [];
  const attr = (n: Node): Float64Array => Float64Array.from([
    n.ino, n.mode, 1, n.uid, n.gid, 0, 0, 0, n.atime.sec, n.atime.nsec, n.mtime.sec, n.mtime.nsec, n.ctime.sec, n.ctime.nsec, 4096,
  ]);
  const child = (parent: number, name: string): Node | undefined => [...nodes.values()].find((n) => n.parent === parent && n.name === name && n.ino !== 1);
  const nowTs = (): Timespec => ({ sec: Math.floor(Date.now() / 1000), nsec: (Date.now() % 1000) * 1e6 });
  const ENOENT = 2;

  const dispatch = (op: number, req: number, uid: number, gid: number, pid: number, a0: number, a1: number, a2: number, a3: number,
    _a4: number, _a5: number, _a6: number, _a7: number, name?: string, _name2?: string, data?: Buffer): void => {
    const s = session();
    const caller = { uid, gid, pid };
    switch (op) {
      case Op.LOOKUP: {
        calls.push({ op, ino: a0, name });
        const n = child(a0, name ?? '');
        if (!n) return b.replyErr(s, req, ENOENT);
        return b.replyEntry(s, req, attr(n), timeoutSec(), timeoutSec());
      }
      case Op.GETATTR: {
        calls.push({ op, ino: a0, fh: a1 });
        const n = nodes.get(a0);
        if (!n) return b.replyErr(s, req, ENOENT);
        return b.replyAttr(s, req, attr(n), timeoutSec());
      }
      case Op.SETATTR: {
        const t = data ? new Float64Array(data.buffer, data.byteOffset, 4) : new Float64Array(4);
        const n = nodes.get(a0)!;
        const call: Call = { op, ino: a0, fh: a1, toSet: a2, caller };
        if (a2 & SetAttrBit.ATIME) n.atime = call.atime = { sec: t[0]!, nsec: t[1]! };
        if (a2 & SetAttrBit.MTIME) n.mtime = call.mtime = { sec: t[2]!, nsec: t[3]! };
        if (a2 & SetAttrBit.ATIME_NOW) n.atime = nowTs();
        if (a2 & SetAttrBit.MTIME_NOW) n.mtime = nowTs();
        n.ctime = nowTs();
        calls.push(call);
        return b.replyAttr(s, req, attr(n), timeoutSec());
      }
      case Op.CREATE: {
        calls.push({ op, ino: a0, name, caller });
        const ino = nextIno++;
        add(ino, FILE, a0, name ?? '');
        const n = nodes.get(ino)!;
        n.uid = uid;
        n.gid = gid;
        return b.replyCreate(s, req, attr(n), timeoutSec(), timeoutSec(), OPEN_FH, 0);
      }
      case Op.OPEN:
        return b.replyOpen(s, req, OPEN_FH, 0);
      case Op.READDIR:
      case Op.READDIRPLUS: {
        calls.push({ op, ino: a0, fh: a1 });
        const kids = [...nodes.values()].filter((n) => n.parent === a0 && n.ino !== 1).sort((x, y) => x.name.localeCompare(y.name));
        const all = [nodes.get(a0)!, nodes.get(a0)!, ...kids].slice(a3);
        const names = [...(a3 === 0 ? ['.', '..'] : a3 === 1 ? ['..'] : []), ...kids.slice(Math.max(0, a3 - 2)).map((n) => n.name)];
        const attrs = new Float64Array(all.length * ATTR_FIELDS);
        all.forEach((n, i) => attrs.set(attr(n), i * ATTR_FIELDS));
        // Every reply offers the listing's end; a long one (more than fits) names a handle to keep.
        const fitted = b.replyDir(s, req, a2, op === Op.READDIRPLUS, names, attrs, a3, timeoutSec(), timeoutSec(), _a4, names.length > 20 ? DIR_FH : 0, true, a0);
        replies.push({ ino: a0, offset: a3, fitted });
        return;
      }
      case Op.STATFS:
        return b.replyStatfs(s, req, Float64Array.from(STATFS));
      case Op.RELEASEDIR:
        calls.push({ op, ino: a0, fh: a1 });
        return b.replyErr(s, req, 0);
      case Op.FLUSH:
      case Op.RELEASE:
        return b.replyErr(s, req, 0);
      case Op.EXIT:
        exits.push(a0);
        b.close(s);
        return;
      default:
        return b.replyErr(s, req, 38); // ENOSYS
    }
  };
  return { dispatch, nodes, calls, exits, replies };
}

async function isMounted(mnt: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === mnt);
}

/** Runs a command with a fixed time zone and locale, so stat prints UTC. */
async function sh(cmd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  return stdout.trim();
}

const ns = (t: Timespec): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);

describe('native FUSE binding (libfuse3 low-level)', () => {
  let tmp = '';
  let mnt = '';
  let session: Session | undefined;
  let memfs: ReturnType<typeof memoryFs>;
  let timeout = 0;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fst-fuse-binding-'));
    await chmod(tmp, 0o755); // so that another uid can reach the mount point
    mnt = join(tmp, 'mnt');
    await mkdir(mnt);
    timeout = 0;
    memfs = memoryFs(() => session!, () => timeout);
    session = b.mount(mnt, ['-o', 'fsname=fsttest,subtype=fsttest,default_permissions,allow_other'], capMask(b, ['READDIRPLUS', 'ASYNC_READ']), 1 << 20, 1 << 20, memfs.dispatch);
  });

  afterEach(async () => {
    if (session) b.close(session);
    session = undefined;
    if (await isMounted(mnt)) await run('umount', ['-l', mnt]).catch(() => undefined);
    if (await isMounted(mnt)) throw new Error(`${mnt} is still mounted`);
    await rm(tmp, { recursive: true, force: true });
  });

  const setattrs = (): Call[] => memfs.calls.filter((c) => c.op === Op.SETATTR);

  it('touch -m -d sets only the mtime, with nanoseconds', async () => {
    const file = join(mnt, 'file');
    await sh('touch', '-m', '-d', '2001-02-03 04:05:06.123456789', file);
    const [call, ...rest] = setattrs();
    expect(rest).toEqual([]);
    expect(call!.toSet! & (SetAttrBit.ATIME | SetAttrBit.ATIME_NOW)).toBe(0);
    expect(call!.mtime).toEqual({ sec: T_2001, nsec: 123_456_789 });
    expect(await sh('stat', '-c', '%y', file)).toBe('2001-02-03 04:05:06.123456789 +0000');
    expect(await sh('stat', '-c', '%x', file)).toBe('2001-09-09 01:46:40.111111111 +0000');
    const st = await stat(file, { bigint: true });
    expect(st.mtimeNs).toBe(ns({ sec: T_2001, nsec: 123_456_789 }));
    expect(st.atimeNs).toBe(ns(INITIAL));
  });

  it('touch -a -d sets only the atime', async () => {
    const file = join(mnt, 'file');
    await sh('touch', '-a', '-d', '2001-02-03 04:05:06.987654321', file);
    const [call] = setattrs();
    expect(call!.toSet! & (SetAttrBit.MTIME | SetAttrBit.MTIME_NOW)).toBe(0);
    expect(call!.atime).toEqual({ sec: T_2001, nsec: 987_654_321 });
    expect(await sh('stat', '-c', '%x', file)).toBe('2001-02-03 04:05:06.987654321 +0000');
  });

  it('plain touch sets both times to now (UTIME_NOW)', async () => {
    const file = join(mnt, 'file');
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    await sh('touch', file);
    const after = BigInt(Date.now() + 1000) * 1_000_000n;
    const [call] = setattrs();
    expect(call!.toSet! & (SetAttrBit.ATIME_NOW | SetAttrBit.MTIME_NOW)).toBe(SetAttrBit.ATIME_NOW | SetAttrBit.MTIME_NOW);
    const st = await stat(file, { bigint: true });
    for (const t of [st.atimeNs, st.mtimeNs]) {
      expect(t).toBeGreaterThan(before);
      expect(t).toBeLessThan(after);
    }
  });

  it('times before 1970 keep their sign both ways', async () => {
    const file = join(mnt, 'file');
    await sh('touch', '-m', '-d', '1969-12-31 23:59:58.5', file);
    expect(setattrs()[0]!.mtime).toEqual({ sec: -2, nsec: 500_000_000 });
    expect(await sh('stat', '-c', '%y', file)).toBe('1969-12-31 23:59:58.500000000 +0000');
  });

  it('an inode number above 2^32 reaches stat and readdir', async () => {
    const file = join(mnt, 'big-ino');
    expect(await sh('stat', '-c', '%i', file)).toBe(String(BIG_INO));
    expect((await stat(file, { bigint: true })).ino).toBe(BigInt(BIG_INO));
    // d_ino from readdir (os.scandir's inode() is the dirent's, not a stat).
    const listing = await sh('python3', '-c', 'import os, sys\nfor e in os.scandir(sys.argv[1]): print(e.name, e.inode())', mnt);
    expect(listing.split('\n').sort()).toEqual([`big-ino ${BIG_INO}`, 'file 2', 'many 3']);
  });

  it('gives each request its caller: a file created by another uid, gid and pid', async () => {
    const file = join(mnt, 'by-1234');
    // setpriv execs touch, so the pid the kernel reports is the child's.
    const touching = run('setpriv', ['--reuid=1234', '--regid=5678', '--clear-groups', 'touch', file]);
    const pid = touching.child.pid;
    await touching;
    const creates = memfs.calls.filter((c) => c.op === Op.CREATE);
    expect(creates).toEqual([{ op: Op.CREATE, ino: 1, name: 'by-1234', caller: { uid: 1234, gid: 5678, pid } }]);
    expect(await sh('stat', '-c', '%u:%g', file)).toBe('1234:5678');
  });

  it('ftruncate sends the descriptor\'s file handle', async () => {
    const script = 'import os, sys\nfd = os.open(sys.argv[1], os.O_RDWR)\nos.ftruncate(fd, 0)\nprint(os.getpid())\nos.close(fd)';
    const pid = Number((await run('python3', ['-c', script, join(mnt, 'file')])).stdout.trim());
    const [call] = setattrs();
    expect(call).toMatchObject({ ino: 2, fh: OPEN_FH, caller: { uid: 0, gid: 0, pid } });
    expect(call!.toSet! & SetAttrBit.SIZE).toBe(SetAttrBit.SIZE);
  });

  it('statfs counts above 2^32 reach statfs(2)', async () => {
    expect(await sh('stat', '-f', '-c', '%b %f %a %c %d %S %l', mnt)).toBe(
      `${2 ** 40} ${2 ** 40 - 7} ${2 ** 33 + 1} ${2 ** 35} ${2 ** 34 + 3} 4096 255`,
    );
    const st = await statfs(mnt, { bigint: true });
    expect({ blocks: st.blocks, bfree: st.bfree, files: st.files, ffree: st.ffree }).toEqual({
      blocks: 2n ** 40n, bfree: 2n ** 40n - 7n, files: 2n ** 35n, ffree: 2n ** 34n + 3n,
    });
  });

  it('lists a directory longer than one kernel buffer, every entry once, with attributes (no lookups)', async () => {
    timeout = 5;
    const out = await sh('ls', '-li', join(mnt, 'many'));
    const lines = out.split('\n').filter((l) => l.includes('entry-'));
    expect(lines).toHaveLength(MANY);
    expect(new Set(lines.map((l) => l.split(/\s+/).pop())).size).toBe(MANY);
    expect(lines[7]).toMatch(/^107 /);
    expect(memfs.calls.filter((c) => c.op === Op.READDIRPLUS).length).toBeGreaterThan(1);
    // readdirplus gave the kernel every entry's attributes: ls -l needed no lookup per entry.
    expect(memfs.calls.filter((c) => c.op === Op.LOOKUP && c.ino === 3)).toEqual([]);
  });

  it('opens and closes directories itself, and answers the read after a listing\'s end', async () => {
    const rootReads = (): Call[] => memfs.calls.filter((c) => c.op === Op.READDIRPLUS && c.ino === 1);
    expect((await sh('ls', '-a', mnt)).split('\n')).toEqual(['.', '..', 'big-ino', 'file', 'many']);
    expect((await sh('ls', mnt)).split('\n')).toEqual(['big-ino', 'file', 'many']);
    // One request per listing reaches JavaScript: the empty read that ends each was answered in C.
    expect(rootReads()).toEqual([{ op: Op.READDIRPLUS, ino: 1, fh: 0 }, { op: Op.READDIRPLUS, ino: 1, fh: 0 }]);
    // No handle was kept, so no releasedir came.
    expect(memfs.calls.filter((c) => c.op === Op.RELEASEDIR)).toEqual([]);

    // A listing longer than a reply: the handle named in the first reply comes back with every
    // later piece and with releasedir. Pieces that left names out did not end the listing; the
    // one that ended it was the last to reach JavaScript.
    expect((await sh('ls', join(mnt, 'many'))).split('\n')).toHaveLength(MANY);
    const manyReads = memfs.calls.filter((c) => c.op === Op.READDIRPLUS && c.ino === 3);
    expect(manyReads.length).toBeGreaterThan(1);
    expect(manyReads[0]!.fh).toBe(0);
    expect(manyReads.slice(1).every((c) => c.fh === DIR_FH)).toBe(true);
    const last = memfs.replies.filter((r) => r.ino === 3).pop()!;
    expect(last.offset + last.fitted).toBe(MANY + 2);
    await waitFor('releasedir of the long listing', () => (memfs.calls.some((c) => c.op === Op.RELEASEDIR) ? true : undefined), undefined, 20);
    expect(memfs.calls.filter((c) => c.op === Op.RELEASEDIR)).toEqual([{ op: Op.RELEASEDIR, ino: 3, fh: DIR_FH }]);
  });

  it('lets the kernel open directories without a request, ending listings in C and caching them itself', async () => {
    b.close(session!);
    await waitFor('the first mount gone', async () => ((await isMounted(mnt)) ? undefined : true));
    memfs = memoryFs(() => session!, () => timeout);
    session = b.mount(mnt, ['-o', 'fsname=fsttest,subtype=fsttest,default_permissions,allow_other'],
      capMask(b, ['READDIRPLUS', 'ASYNC_READ', 'NO_OPENDIR_SUPPORT']), 1 << 20, 1 << 20, memfs.dispatch);
    const reads = (ino: number): Call[] => memfs.calls.filter((c) => c.op === Op.READDIRPLUS && c.ino === ino);
    expect((await sh('ls', '-a', mnt)).split('\n')).toEqual(['.', '..', 'big-ino', 'file', 'many']);
    // One request reached JavaScript, with no handle: no opendir, no releasedir, and the empty
    // read that ends the listing was answered in C from where the reply said it ended.
    expect(reads(1)).toEqual([{ op: Op.READDIRPLUS, ino: 1, fh: 0 }]);
    // The kernel keeps the listing itself now, until the directory changes.
    expect((await sh('ls', mnt)).split('\n')).toEqual(['big-ino', 'file', 'many']);
    expect(reads(1)).toHaveLength(1);
    await writeFile(join(mnt, 'new'), '');
    expect((await sh('ls', mnt)).split('\n')).toEqual(['big-ino', 'file', 'many', 'new']);
    expect(reads(1)).toHaveLength(2);

    // A listing longer than a reply continues from the offsets the replies gave, every entry once.
    const names = (await sh('ls', join(mnt, 'many'))).split('\n');
    expect(names).toHaveLength(MANY);
    expect(new Set(names).size).toBe(MANY);
    expect(reads(3).length).toBeGreaterThan(1);
    expect(reads(3).every((c) => c.fh === 0)).toBe(true);
    const last = memfs.replies.filter((r) => r.ino === 3).pop()!;
    expect(last.offset + last.fitted).toBe(MANY + 2);
    expect(memfs.calls.filter((c) => c.op === Op.RELEASEDIR)).toEqual([]);
  });

  it('lets the kernel keep an answer for the timeout it carries, and drops attributes on request', async () => {
    const lookups = (): number => memfs.calls.filter((c) => c.op === Op.LOOKUP && c.name === 'file').length;
    const getattrs = (): number => memfs.calls.filter((c) => c.op === Op.GETATTR && c.ino === 2).length;
    timeout = 0;
    await stat(join(mnt, 'file'));
    await stat(join(mnt, 'file'));
    expect(lookups()).toBe(2);
    timeout = 60;
    await stat(join(mnt, 'file'));
    const seen = lookups();
    const seenGetattrs = getattrs();
    await stat(join(mnt, 'file'));
    await stat(join(mnt, 'file'));
    expect(lookups()).toBe(seen);
    expect(getattrs()).toBe(seenGetattrs);
    // Dropped attributes are asked for again at the next stat, though the entry is still trusted.
    expect(b.invalAttr(session!, 2)).toBe(0);
    await stat(join(mnt, 'file'));
    expect(getattrs()).toBe(seenGetattrs + 1);
    expect(lookups()).toBe(seen);
  });

  it('reports an unmount done from outside', async () => {
    await stat(join(mnt, 'file'));
    await run('umount', [mnt]);
    await waitFor('the exit event', () => (memfs.exits.length > 0 ? true : undefined), undefined, 20);
    session = undefined;
    expect(await isMounted(mnt)).toBe(false);
  });
});
