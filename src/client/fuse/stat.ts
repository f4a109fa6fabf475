/** Attr -> the stat object fuse-native expects (times as {sec, nsec}: see the fuse-native patch). */
import { constants } from 'node:fs';
import { fst, type Attr } from '../types.js';

const IFMT: Record<number, number> = {
  [fst.FileType.REGULAR]: constants.S_IFREG,
  [fst.FileType.DIRECTORY]: constants.S_IFDIR,
  [fst.FileType.SYMLINK]: constants.S_IFLNK,
  [fst.FileType.FIFO]: constants.S_IFIFO,
  [fst.FileType.CHAR_DEVICE]: constants.S_IFCHR,
  [fst.FileType.BLOCK_DEVICE]: constants.S_IFBLK,
  [fst.FileType.SOCKET]: constants.S_IFSOCK,
};

/** st_blksize: the I/O size tools such as cp use; large pieces suit write-back and read-ahead. */
export const PREFERRED_IO_SIZE = 128 * 1024;

export interface FuseStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  dev: number;
  nlink: number;
  ino: number;
  rdev: number;
  blksize: number;
  blocks: number;
  atime: { sec: number; nsec: number };
  mtime: { sec: number; nsec: number };
  ctime: { sec: number; nsec: number };
}

export function toFuseStat(a: Attr): FuseStat {
  return {
    mode: (IFMT[a.type] ?? 0) | (a.mode & 0o7777),
    uid: a.uid,
    gid: a.gid,
    size: a.size,
    dev: 0,
    nlink: a.nlink,
    ino: a.ino,
    rdev: a.rdev,
    blksize: PREFERRED_IO_SIZE,
    // 512-byte units actually allocated: holes cost nothing, but FST does not track them per file,
    // so report the size rounded up (what a file without holes would use).
    blocks: Math.ceil(a.size / 512),
    atime: a.atime,
    mtime: a.mtime,
    ctime: a.ctime,
  };
}
