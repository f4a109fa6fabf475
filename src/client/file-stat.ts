/**
 * FileStat: what the path API's stat returns, shaped like Node's fs.Stats (mode carries the S_IFMT
 * type bits, times in milliseconds) with the exact Timespecs kept beside, so callers that restore
 * times (cp -p, FUSE) lose no nanoseconds.
 */
import { constants } from 'node:fs';
import { fst, msOfTimespec, type Attr, type Timespec } from './types.js';

export type FileKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'char-device' | 'block-device' | 'socket' | 'unknown';

export interface FileStat {
  ino: number;
  kind: FileKind;
  /** S_IFMT type bits | permission bits, as st_mode. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  rdev: number;
  /** Replication goal of the file's chunks. */
  replication: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  /** Whether it has extended attributes (getxattr of one without any needs no call). */
  hasXattrs: boolean;
}

const T = fst.FileType;

const kinds: Record<number, { kind: FileKind; ifmt: number; letter: string }> = {
  [T.REGULAR]: { kind: 'file', ifmt: constants.S_IFREG, letter: '-' },
  [T.DIRECTORY]: { kind: 'directory', ifmt: constants.S_IFDIR, letter: 'd' },
  [T.SYMLINK]: { kind: 'symlink', ifmt: constants.S_IFLNK, letter: 'l' },
  [T.FIFO]: { kind: 'fifo', ifmt: constants.S_IFIFO, letter: 'p' },
  [T.CHAR_DEVICE]: { kind: 'char-device', ifmt: constants.S_IFCHR, letter: 'c' },
  [T.BLOCK_DEVICE]: { kind: 'block-device', ifmt: constants.S_IFBLK, letter: 'b' },
  [T.SOCKET]: { kind: 'socket', ifmt: constants.S_IFSOCK, letter: 's' },
};

export function kindOf(type: fst.FileType): FileKind {
  return kinds[type]?.kind ?? 'unknown';
}

export function toFileStat(a: Attr): FileStat {
  return {
    ino: a.ino,
    kind: kindOf(a.type),
    mode: (kinds[a.type]?.ifmt ?? 0) | (a.mode & 0o7777),
    uid: a.uid,
    gid: a.gid,
    nlink: a.nlink,
    size: a.size,
    rdev: a.rdev,
    replication: a.replication,
    atimeMs: msOfTimespec(a.atime),
    mtimeMs: msOfTimespec(a.mtime),
    ctimeMs: msOfTimespec(a.ctime),
    atime: a.atime,
    mtime: a.mtime,
    ctime: a.ctime,
    hasXattrs: a.hasXattrs,
  };
}

/** The `ls -l` form of a type and mode: "drwxr-xr-x", "-rwsr-x--T". */
export function modeString(type: fst.FileType, mode: number): string {
  const bit = (mask: number, ch: string): string => (mode & mask ? ch : '-');
  const exec = (x: number, special: number, set: string, unset: string): string =>
    mode & special ? (mode & x ? set : unset) : bit(x, 'x');
  return (kinds[type]?.letter ?? '?')
    + bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's', 'S')
    + bit(0o040, 'r') + bit(0o020, 'w') + exec(0o010, 0o2000, 's', 'S')
    + bit(0o004, 'r') + bit(0o002, 'w') + exec(0o001, 0o1000, 't', 'T');
}

/** modeString of a FileStat ("-rw-r--r--"). */
export function statModeString(st: FileStat): string {
  const type = Object.entries(kinds).find(([, k]) => k.kind === st.kind)?.[0];
  return modeString(type === undefined ? T.FILE_TYPE_UNSPECIFIED : (Number(type) as fst.FileType), st.mode);
}
