/**
 * Attr -> the attribute layout fst_fuse.c reads (a Float64Array of ATTR_FIELDS numbers per inode:
 * plain doubles cross into C without a property lookup each). Numbers up to 2^53 are exact.
 */
import { constants } from 'node:fs';
import { fst, type Attr } from '../types.js';

/** Field positions (fst_fuse.c's AT_* enum). */
const enum F { INO, MODE, NLINK, UID, GID, RDEV, SIZE, BLOCKS, ATIME, ATIME_NS, MTIME, MTIME_NS, CTIME, CTIME_NS, BLKSIZE }
export const ATTR_FIELDS = 15;

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

/** The st_mode of an inode: its type's S_IFMT bits and its permission bits. */
export function statMode(a: Attr): number {
  return (IFMT[a.type] ?? 0) | (a.mode & 0o7777);
}

/** Writes `a` into `out` at entry `index` (ATTR_FIELDS numbers each); returns `out`. */
export function encodeAttr(a: Attr, out: Float64Array, index = 0): Float64Array {
  const o = index * ATTR_FIELDS;
  out[o + F.INO] = a.ino;
  out[o + F.MODE] = statMode(a);
  out[o + F.NLINK] = a.nlink;
  out[o + F.UID] = a.uid;
  out[o + F.GID] = a.gid;
  out[o + F.RDEV] = a.rdev;
  out[o + F.SIZE] = a.size;
  // 512-byte units actually allocated: holes cost nothing, but FST does not track them per file,
  // so report the size rounded up (what a file without holes would use).
  out[o + F.BLOCKS] = Math.ceil(a.size / 512);
  out[o + F.ATIME] = a.atime.sec;
  out[o + F.ATIME_NS] = a.atime.nsec;
  out[o + F.MTIME] = a.mtime.sec;
  out[o + F.MTIME_NS] = a.mtime.nsec;
  out[o + F.CTIME] = a.ctime.sec;
  out[o + F.CTIME_NS] = a.ctime.nsec;
  out[o + F.BLKSIZE] = PREFERRED_IO_SIZE;
  return out;
}

/** A negative entry (ino 0): the name does not exist, and the kernel may remember that. */
export function encodeNegative(out: Float64Array): Float64Array {
  out.fill(0, 0, ATTR_FIELDS);
  return out;
}
