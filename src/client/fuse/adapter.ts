/**
 * The FUSE low-level requests (from the native binding's dispatch) turned into Vfs calls, and the
 * Vfs's answers and errors into FUSE replies. The only file besides mount.ts that knows FUSE exists,
 * and the only place an errno name becomes a number. Every request is answered exactly once, through
 * `answer`, which also counts and times it when the mount has metrics.
 */
import { errnoNumber, type ErrnoName } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import { OK } from '../../common/metrics/op-recorder.js';
import type { MountMetrics } from '../../common/metrics/mount-metrics.js';
import type { Attr } from '../types.js';
import type { Vfs } from '../vfs/vfs.js';
import type { OpContext, Timed } from '../vfs/op-context.js';
import type { SetattrChanges } from '../vfs/ops-attr.js';
import type { DirPiece } from '../vfs/ops-dir.js';
import { Op, OpenFlag, SetAttrBit, type Dispatch, type FuseBinding, type Session } from './binding.js';
import { ATTR_FIELDS, encodeAttr, encodeNegative } from './stat.js';
import { isIdentityMap, mapCaller, type CallerMap } from '../../common/caller-map.js';
import { CallerGroups } from './caller-groups.js';
import { LockWaits } from './lock-waits.js';
import type { LockKind, LockRange, LockType } from '../vfs/file-locks.js';

const NO_GROUPS: number[] = [];

/** A FUSE request's caller; its supplementary groups are read when first asked for. */
class FuseCaller implements OpContext {
  private known: readonly number[] | undefined;
  constructor(readonly uid: number, readonly gid: number, readonly pid: number, private readonly lookup: CallerGroups) {}

  get groups(): readonly number[] {
    return (this.known ??= this.lookup.of(this.pid));
  }
}

/** fcntl lock types and flock(2) operations (Linux). */
const F_RDLCK = 0;
const F_WRLCK = 1;
const F_UNLCK = 2;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

/** Ops whose first argument is an inode (node id); the others carry a file handle or nothing there. */
const INODE_FIRST: ReadonlySet<number> = new Set([
  Op.LOOKUP, Op.GETATTR, Op.SETATTR, Op.READLINK, Op.MKNOD, Op.MKDIR, Op.UNLINK, Op.RMDIR, Op.SYMLINK, Op.RENAME, Op.LINK,
  Op.OPEN, Op.CREATE, Op.READDIR, Op.READDIRPLUS, Op.SETXATTR, Op.GETXATTR, Op.LISTXATTR, Op.REMOVEXATTR, Op.ACCESS,
  Op.FLUSH, Op.RELEASE, Op.GETLK, Op.SETLK, Op.FLOCK,
]);

export interface AdapterOptions {
  vfs: Vfs;
  log: Logger;
  binding: FuseBinding;
  /** The mounted session (known once mount() returned; no request comes before). */
  session: () => Session;
  /** Most seconds the kernel may trust a name (an answer from fst-mount's cache gets what it has left). */
  entryTimeoutSec: number;
  /** Most seconds the kernel may trust attributes. */
  attrTimeoutSec: number;
  /** How long the kernel may remember that a name does not exist. */
  negativeTimeoutSec: number;
  /** Who callers act as (the credential's root squash or map-all); absent: as the kernel says. */
  callerMap?: CallerMap;
  /**
   * FST's inode the kernel's root (node id 1) stands for: another than 1 when the credential is
   * confined to a subtree. Node ids are FST's inode numbers otherwise.
   */
  rootIno?: number;
  /** The connection ended (unmounted from outside, or closed). */
  onExit: (errno: number) => void;
  /** A kernel notification finished (token, errno). */
  onNotified?: (token: number, errno: number) => void;
  /** Where ops and bytes are counted; absent without metrics. */
  metrics?: MountMetrics;
}

const OP_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Op).map(([k, v]) => [v, k.toLowerCase()]));

/** Bytes of a directory entry before its name (struct fuse_dirent, and with fuse_entry_out before it). */
const DIRENT_HEAD = 24;
const DIRENTPLUS_HEAD = 152;
/** Smallest entry the kernel's buffer can hold (a name of one byte), to bound what a piece asks for. */
const MIN_DIRENT = DIRENT_HEAD + 8;
const MIN_DIRENTPLUS = DIRENTPLUS_HEAD + 8;

/** How many of `names` fit in a reply of `size` bytes (each entry padded to 8 bytes, as fuse_add_direntry does). */
function direntsFitting(names: readonly string[], size: number, plus: boolean): number {
  const head = plus ? DIRENTPLUS_HEAD : DIRENT_HEAD;
  let used = 0;
  for (let i = 0; i < names.length; i++) {
    used += (head + Buffer.byteLength(names[i]!) + 7) & ~7;
    if (used > size) return i;
  }
  return names.length;
}
const BUF = new Float64Array(ATTR_FIELDS);
/**
 * A directory entry's offset is a listing handle's number times this, plus the entry's place in
 * the listing (handles stay below MAX_HANDLE: the product stays an exact double and a valid off_t).
 */
const COOKIE_SPAN = 2 ** 33;

function xattrList(names: string[]): Buffer {
  return Buffer.from(names.map((n) => `${n}\0`).join(''));
}

export function fuseDispatch(o: AdapterOptions): Dispatch {
  const { vfs, log, metrics, binding: b } = o;
  const debug = log.level === 'debug';
  const timed = debug || metrics !== undefined;
  const s = (): Session => o.session();
  const callerMap = o.callerMap && !isIdentityMap(o.callerMap) ? o.callerMap : undefined;
  const callerGroups = new CallerGroups();
  const lockWaits = new LockWaits();
  /** A confined credential's root inode stands behind the kernel's node id 1 (see AdapterOptions.rootIno). */
  const root = o.rootIno ?? 1;
  const kernelAttr = (a: Attr, out: Float64Array, index = 0): Float64Array =>
    encodeAttr(root !== 1 && a.ino === root ? { ...a, ino: 1 } : a, out, index);

  /** The errno name of a failure; logs what is unexpected, and EIO. */
  const errnoName = (op: string, e: unknown): ErrnoName => {
    const code = toErrno(e, (u) => log.error('unexpected error in FUSE operation', { op, err: u }));
    if (code === 'EIO') log.warn('FUSE operation failed', { op, err: e });
    return code;
  };
  const done = (op: string, t0: number, outcome: string): void => {
    metrics?.op(op).record(t0, outcome);
    if (debug) log.debug(outcome === OK ? 'op' : 'op failed', { op, ms: +(performance.now() - t0).toFixed(3), code: outcome });
  };
  /**
   * Runs `fn`, then replies with `ok(result)`, or with the errno (or `failed(code)` when given,
   * which returns true when it replied itself). A reply that throws is a bug: logged, and the
   * request gets EIO if it was not answered.
   */
  function answer<T>(op: number, req: number, fn: () => Promise<T> | T, ok: (r: T) => void, failed?: (code: ErrnoName) => boolean): void {
    const name = OP_NAMES[op] ?? String(op);
    const t0 = timed ? performance.now() : 0;
    let replied = false;
    const reply = (send: () => void): void => {
      if (replied) return;
      replied = true;
      try {
        send();
      } catch (e) {
        log.error('FUSE reply failed', { op: name, err: e });
      }
    };
    Promise.resolve()
      .then(fn)
      .then((r) => {
        if (timed) done(name, t0, OK);
        reply(() => ok(r));
      }, (e: unknown) => {
        const code = errnoName(name, e);
        if (timed) done(name, t0, code);
        reply(() => {
          if (!failed?.(code)) b.replyErr(s(), req, errnoNumber(code));
        });
      });
  }
  const ok0 = (req: number) => (): void => b.replyErr(s(), req, 0);
  const entryTtl = (left: number): number => Math.min(left, o.entryTimeoutSec);
  const attrTtl = (left: number): number => Math.min(left, o.attrTimeoutSec);
  const entry = (req: number) => (a: Timed<Attr>): void =>
    b.replyEntry(s(), req, kernelAttr(a.value, BUF), entryTtl(a.ttlSec), attrTtl(a.attrTtlSec ?? a.ttlSec));
  /** An inode just made or changed through this mount: trusted for the whole TTL. */
  const fresh = (req: number) => (a: Attr): void => b.replyEntry(s(), req, kernelAttr(a, BUF), o.entryTimeoutSec, o.attrTimeoutSec);

  function setattrChanges(toSet: number, mode: number, uid: number, gid: number, size: number, times: Buffer | undefined): SetattrChanges {
    const c: SetattrChanges = {};
    if (toSet & SetAttrBit.MODE) c.mode = mode & 0o7777;
    if (toSet & SetAttrBit.UID) c.uid = uid;
    if (toSet & SetAttrBit.GID) c.gid = gid;
    if (toSet & SetAttrBit.SIZE) c.size = size;
    const t = times && times.length >= 32 ? new Float64Array(times.buffer, times.byteOffset, 4) : undefined;
    if (toSet & SetAttrBit.ATIME_NOW) c.atime = 'now';
    else if (toSet & SetAttrBit.ATIME && t) c.atime = { sec: t[0]!, nsec: t[1]! };
    if (toSet & SetAttrBit.MTIME_NOW) c.mtime = 'now';
    else if (toSet & SetAttrBit.MTIME && t) c.mtime = { sec: t[2]!, nsec: t[3]! };
    return c;
  }

  /**
   * A piece of a directory. The binding opens directories itself, or the kernel opens them without
   * asking (`dir` 0), and a listing's first piece comes with no handle: one is opened here, and kept
   * only when the listing did not end in this piece (a directory read whole in one piece, as most
   * are, leaves nothing open here). A kept handle is named by the offsets its entries get, its
   * number times COOKIE_SPAN plus their place, so that the next piece finds it with or without an
   * open directory to carry it; one no longer open (dropped unfinished, dir-handles.ts) is read
   * afresh from the same place. Without an open directory no releasedir comes: the handle goes when
   * its listing ended.
   */
  function readdir(req: number, plus: boolean, ino: number, jsFh: number, size: number, offset: number, dir: number): void {
    const max = Math.floor(size / (plus ? MIN_DIRENTPLUS : MIN_DIRENT));
    const place = offset % COOKIE_SPAN;
    const named = jsFh || Math.floor(offset / COOKIE_SPAN);
    answer(plus ? Op.READDIRPLUS : Op.READDIR, req, async () => {
      const continuing = named !== 0 && vfs.holdsDir(named, ino);
      const fh = continuing ? named : await vfs.opendir(ino);
      let piece: DirPiece;
      try {
        piece = await vfs.readdir(fh, place, max);
      } catch (e) {
        if (!continuing) vfs.releasedir(fh);
        throw e;
      }
      const fit = direntsFitting(piece.names, size, plus);
      const end = piece.end && fit === piece.names.length;
      // Released now once the listing ended, unless the open directory carries it (its releasedir will).
      const carried = dir !== 0 && fh === jsFh;
      const kept = end && !carried ? 0 : fh;
      if (kept === 0) vfs.releasedir(fh);
      return { names: piece.names.slice(0, fit), attrs: piece.attrs.slice(0, fit), end, fh: kept };
    }, (p) => {
      const attrs = new Float64Array(p.attrs.length * ATTR_FIELDS);
      p.attrs.forEach((a, i) => kernelAttr(a, attrs, i));
      b.replyDir(s(), req, size, plus, p.names, attrs, p.fh * COOKIE_SPAN + place, o.entryTimeoutSec, o.attrTimeoutSec, dir, p.fh, p.end, ino === root ? 1 : ino);
    });
  }

  /**
   * F_SETLK(W) and flock. Before a lock is dropped or weakened the descriptor's pending writes are
   * sent, so that the next holder, on any mount, reads them (NFS does the same); a write error
   * stays with the descriptor's writer, which returns it at its next write, fsync or close.
   */
  function setLock(op: number, req: number, ino: number, fh: number, owner: string, kind: LockKind, type: LockType, range: LockRange, pid: number, wait: boolean): void {
    const interrupted = wait ? lockWaits.start(req) : undefined;
    answer(op, req, async () => {
      try {
        if (type !== 'write' && fh >= 0) await vfs.flush(fh).catch(() => undefined);
        await vfs.locks.set(ino, owner, kind, type, range, pid, wait, interrupted);
      } finally {
        lockWaits.end(req);
      }
    }, ok0(req));
  }

  return (op, req, uid, gid, pid, a0, a1, a2, a3, _a4, a5, a6, _a7, name, name2, data) => {
    const asked = { uid, gid, groups: NO_GROUPS };
    const ids = callerMap ? mapCaller(asked, callerMap) : asked;
    // A caller mapped by the credential has the groups of its mapping; any other's are read from
    // /proc only if the operation sends a caller to the master (not for reads and writes).
    const ctx: OpContext = ids === asked ? new FuseCaller(uid, gid, pid, callerGroups) : { uid: ids.uid, gid: ids.gid, pid, groups: ids.groups };
    const nm = name ?? '';
    if (root !== 1) {
      if (a0 === 1 && INODE_FIRST.has(op)) a0 = root;
      if (a1 === 1 && (op === Op.RENAME || op === Op.LINK)) a1 = root;
    }
    switch (op) {
      case Op.LOOKUP:
        return answer(op, req, () => vfs.lookup(a0, nm), entry(req), (code) => {
          if (code !== 'ENOENT') return false;
          // Remembered missing, so that a create right after goes straight to fst-mount.
          b.replyEntry(s(), req, encodeNegative(BUF), o.negativeTimeoutSec, 0);
          return true;
        });
      case Op.GETATTR:
        return answer(op, req, () => vfs.getattr(a0, a1 >= 0 ? a1 : undefined), (a) => b.replyAttr(s(), req, kernelAttr(a.value, BUF), attrTtl(a.ttlSec)));
      case Op.SETATTR:
        return answer(op, req, () => vfs.setattr(a0, setattrChanges(a2, a3, _a4, a5, a6, data), a1 >= 0 ? a1 : undefined, ctx),
          (a) => b.replyAttr(s(), req, kernelAttr(a, BUF), o.attrTimeoutSec));
      case Op.READLINK:
        return answer(op, req, () => vfs.readlink(a0), (t) => b.replyReadlink(s(), req, t));
      case Op.MKNOD:
        return answer(op, req, () => vfs.mknod(a0, nm, a1, a2, ctx), fresh(req));
      case Op.MKDIR:
        return answer(op, req, () => vfs.mkdir(a0, nm, a1, ctx), fresh(req));
      case Op.UNLINK:
        return answer(op, req, () => vfs.unlink(a0, nm, ctx), ok0(req));
      case Op.RMDIR:
        return answer(op, req, () => vfs.rmdir(a0, nm, ctx), ok0(req));
      case Op.SYMLINK:
        return answer(op, req, () => vfs.symlink(a0, nm, name2 ?? '', ctx), fresh(req));
      case Op.RENAME:
        return answer(op, req, () => vfs.rename(a0, nm, a1, name2 ?? '', a2, ctx), ok0(req));
      case Op.LINK:
        return answer(op, req, () => vfs.link(a0, a1, nm, ctx), fresh(req));
      case Op.OPEN:
        return answer(op, req, () => vfs.open(a0, a1), (r) => b.replyOpen(s(), req, r.fh, r.keepCache ? OpenFlag.KEEP_CACHE : 0));
      case Op.CREATE:
        return answer(op, req, () => vfs.create(a0, nm, a1, a2, ctx), (r) => {
          b.replyCreate(s(), req, kernelAttr(r.attr, BUF), o.entryTimeoutSec, o.attrTimeoutSec, r.fh, r.keepCache ? OpenFlag.KEEP_CACHE : 0);
        });
      case Op.READ:
        return answer(op, req, () => vfs.read(a1, a3, a2), (buf) => {
          const out = buf.length > a2 ? buf.subarray(0, a2) : buf;
          metrics?.bytesRead.inc(out.length);
          b.replyBuf(s(), req, out);
        });
      case Op.WRITE:
        return answer(op, req, () => vfs.write(a1, data ?? Buffer.alloc(0), a3), (n) => {
          metrics?.bytesWritten.inc(n);
          b.replyWrite(s(), req, n);
        });
      case Op.FLUSH:
        // Every close by a POSIX lock owner drops its locks on the file, whatever the flush gives,
        // and after it: the next holder, on any mount, must find the data written under the lock.
        return answer(op, req, async () => {
          try {
            await vfs.flush(a1);
          } finally {
            await vfs.locks.closed(a0, nm, 'posix');
          }
        }, ok0(req));
      case Op.RELEASE:
        return answer(op, req, async () => {
          // The last close of an open file drops its flock (FUSE_RELEASE_FLOCK_UNLOCK).
          if (a3 === 1 && name !== undefined) await vfs.locks.closed(a0, name, 'flock');
          await vfs.release(a1);
        }, ok0(req));
      case Op.GETLK: {
        const type = a2 === F_WRLCK ? 'write' : 'read';
        return answer(op, req, () => vfs.locks.test(a0, nm, type, { start: a3, length: _a4 }, a5),
          (c) => (c ? b.replyLock(s(), req, c.type === 'write' ? F_WRLCK : F_RDLCK, c.start, c.length, c.pid) : b.replyLock(s(), req, F_UNLCK, a3, _a4, 0)));
      }
      case Op.SETLK: {
        const type = a2 === F_WRLCK ? 'write' : a2 === F_RDLCK ? 'read' : 'unlock';
        return setLock(op, req, a0, a1, nm, 'posix', type, { start: a3, length: _a4 }, a5, a6 === 1);
      }
      case Op.FLOCK: {
        const type = a2 & LOCK_UN ? 'unlock' : a2 & LOCK_EX ? 'write' : 'read';
        return setLock(op, req, a0, a1, nm, 'flock', type, { start: 0, length: 0 }, pid, (a2 & LOCK_NB) === 0);
      }
      case Op.INTERRUPT:
        // Not a request: nothing is answered. The interrupted lock wait answers EINTR.
        lockWaits.interrupt(req);
        return;
      case Op.FSYNC:
        return answer(op, req, () => vfs.fsync(a1), ok0(req));
      case Op.FALLOCATE:
        return answer(op, req, () => vfs.fallocate(a1, a2, a3, _a4, ctx), ok0(req));
      case Op.READDIR:
        return readdir(req, false, a0, a1, a2, a3, _a4);
      case Op.READDIRPLUS:
        return readdir(req, true, a0, a1, a2, a3, _a4);
      case Op.RELEASEDIR:
        return answer(op, req, () => vfs.releasedir(a1), ok0(req));
      case Op.FSYNCDIR:
        return answer(op, req, () => vfs.fsyncdir(), ok0(req));
      case Op.STATFS:
        return answer(op, req, () => vfs.statfs(), (st) => b.replyStatfs(s(), req, statfsNumbers(st)));
      case Op.SETXATTR:
        return answer(op, req, () => vfs.setxattr(a0, nm, data ?? Buffer.alloc(0), a1, ctx), ok0(req));
      case Op.GETXATTR:
        return answer(op, req, () => vfs.getxattr(a0, nm), (v) => sized(req, a1, v));
      case Op.LISTXATTR:
        return answer(op, req, () => vfs.listxattr(a0), (names) => sized(req, a1, xattrList(names)));
      case Op.REMOVEXATTR:
        return answer(op, req, () => vfs.removexattr(a0, nm, ctx), ok0(req));
      case Op.ACCESS:
        return answer(op, req, () => vfs.access(a0), ok0(req));
      case Op.EXIT:
        return o.onExit(a0);
      case Op.NOTIFY_DONE:
        // (NOTIFY_DONE, token, errno) ride in the places of req and uid.
        return o.onNotified?.(req, uid);
      default:
        return answer(op, req, () => Promise.reject(new Error(`unknown FUSE op ${op}`)), ok0(req));
    }
  };

  /** getxattr/listxattr: size 0 asks for the length; a value longer than `size` is ERANGE. */
  function sized(req: number, size: number, value: Buffer): void {
    if (size === 0) b.replyXattr(s(), req, value.length);
    else if (value.length > size) b.replyErr(s(), req, errnoNumber('ERANGE'));
    else b.replyBuf(s(), req, value);
  }
}

const BLOCK = 4096;

/** statfs(2) numbers: [bsize, frsize, blocks, bfree, bavail, files, ffree, favail, namemax]. */
function statfsNumbers(st: { totalBytes: number; freeBytes: number; files: number }): Float64Array {
  const free = Math.floor(st.freeBytes / BLOCK);
  // Inodes are not a limited resource in FST: report plenty free, as network filesystems do.
  const ffree = 1_000_000_000;
  return Float64Array.from([BLOCK, BLOCK, Math.floor(st.totalBytes / BLOCK), free, free, st.files + ffree, ffree, ffree, 255]);
}
