/**
 * The native FUSE binding (native/fuse-ll/fst_fuse.c, libfuse3's low-level API), loaded once and
 * typed. Requests arrive through one dispatch function on the JS thread; every request must be
 * answered exactly once through one of the reply functions (see `FuseRequest` in adapter.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FsError } from '../../common/errors/errno.js';

/** Operation codes, as fst_fuse.c numbers them. */
export const Op = {
  LOOKUP: 1, GETATTR: 2, SETATTR: 3, READLINK: 4, MKNOD: 5, MKDIR: 6, UNLINK: 7, RMDIR: 8,
  SYMLINK: 9, RENAME: 10, LINK: 11, OPEN: 12, READ: 13, WRITE: 14, FLUSH: 15, RELEASE: 16, FSYNC: 17,
  OPENDIR: 18, READDIR: 19, READDIRPLUS: 20, RELEASEDIR: 21, FSYNCDIR: 22, STATFS: 23, SETXATTR: 24,
  GETXATTR: 25, LISTXATTR: 26, REMOVEXATTR: 27, ACCESS: 28, CREATE: 29, INTERRUPT: 31, FALLOCATE: 32, GETLK: 33, SETLK: 34, FLOCK: 35,
  NOTIFY_DONE: 98, EXIT: 99,
} as const;

/** Open reply flags (fst_fuse.c fill_open). */
export const OpenFlag = { DIRECT_IO: 1, KEEP_CACHE: 2, NONSEEKABLE: 4, CACHE_DIR: 8, NOFLUSH: 16 } as const;

/** setattr's `to_set` bits (fuse_lowlevel.h FUSE_SET_ATTR_*). */
export const SetAttrBit = {
  MODE: 1, UID: 2, GID: 4, SIZE: 8, ATIME: 16, MTIME: 32, ATIME_NOW: 128, MTIME_NOW: 256, CTIME: 1024,
} as const;

/** Capability names fst_fuse exports (FUSE_CAP_*). */
export type CapName =
  | 'ASYNC_READ' | 'ATOMIC_O_TRUNC' | 'EXPORT_SUPPORT' | 'DONT_MASK' | 'READDIRPLUS' | 'READDIRPLUS_AUTO'
  | 'ASYNC_DIO' | 'WRITEBACK_CACHE' | 'PARALLEL_DIROPS' | 'AUTO_INVAL_DATA' | 'CACHE_SYMLINKS'
  | 'EXPLICIT_INVAL_DATA' | 'IOCTL_DIR' | 'HANDLE_KILLPRIV' | 'NO_OPENDIR_SUPPORT' | 'POSIX_LOCKS' | 'FLOCK_LOCKS';

/** An opaque mounted session. */
export type Session = { readonly __brand: 'fst_fuse session' };

/**
 * dispatch(op, req, uid, gid, pid, a0..a7, name, name2, data): see fst_fuse.c for each op's
 * numbers. EXIT comes as (EXIT, undefined x4, errno); NOTIFY_DONE as (NOTIFY_DONE, token, errno).
 */
export type Dispatch = (
  op: number, req: number, uid: number, gid: number, pid: number,
  a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number,
  name: string | undefined, name2: string | undefined, data: Buffer | undefined,
) => void;

export interface FuseBinding {
  CAP: Record<CapName, number>;
  /** `pollMicros`: how long to keep reading requests after a burst was answered at once (0: none). */
  mount(mountpoint: string, args: string[], want: number, maxWrite: number, maxReadahead: number, dispatch: Dispatch, pollMicros?: number): Session;
  close(s: Session): void;
  replyErr(s: Session, req: number, errno: number): void;
  replyNone(s: Session, req: number): void;
  replyEntry(s: Session, req: number, attr: Float64Array, entryTimeout: number, attrTimeout: number): void;
  replyCreate(s: Session, req: number, attr: Float64Array, entryTimeout: number, attrTimeout: number, fh: number, openFlags: number): void;
  replyAttr(s: Session, req: number, attr: Float64Array, attrTimeout: number): void;
  replyOpen(s: Session, req: number, fh: number, openFlags: number): void;
  replyBuf(s: Session, req: number, data: Buffer | undefined): void;
  replyWrite(s: Session, req: number, count: number): void;
  /** getlk's answer: `type` F_UNLCK (2) when nothing conflicts; `length` 0: to the end of the file. */
  replyLock(s: Session, req: number, type: number, start: number, length: number, pid: number): void;
  replyXattr(s: Session, req: number, size: number): void;
  replyReadlink(s: Session, req: number, target: string): void;
  replyStatfs(s: Session, req: number, st: Float64Array): void;
  /**
   * `dir` is the open directory the READDIR(PLUS) request named (its a4; 0 when the kernel opened
   * the directory without asking); it is told JavaScript's handle for it (0 = none: releasedir will
   * not come here). Whether `names` end the listing is kept with `dir`, or by `ino` without one.
   */
  replyDir(s: Session, req: number, size: number, plus: boolean, names: string[], attrs: Float64Array, firstOffset: number,
    entryTimeout: number, attrTimeout: number, dir: number, jsFh: number, end: boolean, ino: number): number;
  notify(s: Session, kind: number, parent: number, ino: number, off: number, len: number, name: string | undefined, token: number): number;
  invalAttr(s: Session, ino: number): number;
}

const ADDON = join(import.meta.dirname, '..', '..', '..', 'native', 'fuse-ll', 'build', 'Release', 'fst_fuse.node');

let loaded: FuseBinding | undefined;

/** The binding; ENOSYS with a hint when it was not built (scripts/build-native.sh at install). */
export function fuseBinding(): FuseBinding {
  if (loaded) return loaded;
  if (!existsSync(ADDON)) throw new FsError('ENOSYS', `the FUSE binding is not built (${ADDON}): run npm install (it needs libfuse3-dev)`);
  loaded = createRequire(import.meta.url)(ADDON) as FuseBinding;
  return loaded;
}

/** The FUSE_CAP_* mask of the named capabilities. */
export function capMask(b: FuseBinding, names: readonly CapName[]): number {
  return names.reduce((m, n) => m | b.CAP[n], 0);
}
