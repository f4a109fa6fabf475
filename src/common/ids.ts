/** Branded ids: an inode number and a chunk id are both integers, but never interchangeable. */
import { FsError } from './errors/errno.js';

export type Ino = number & { readonly __brand: 'Ino' };
export type ChunkId = number & { readonly __brand: 'ChunkId' };

export const ROOT_INO = 1 as Ino;

/** Bytes in a chunk: files are cut into 64 MiB chunks. */
export const CHUNK_SIZE = 64 * 1024 * 1024;

/** Bytes per checksum block in a chunk. */
export const CHECKSUM_BLOCK = 64 * 1024;

/**
 * The protocol's largest inline file (WriteInline): a master keeps files of at most
 * min(its --inline-max, this) bytes in its metadata instead of chunks.
 */
export const INLINE_LIMIT = 64 * 1024;

/** Longest name of one directory entry, in UTF-8 bytes (Linux NAME_MAX). */
export const NAME_MAX = 255;
/** Longest symlink target, in UTF-8 bytes including the terminating NUL on Linux (PATH_MAX). */
export const PATH_MAX = 4096;

/** A name a directory entry can have (the master refuses the others with EINVAL or ENAMETOOLONG). */
export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0') && Buffer.byteLength(name) <= NAME_MAX;
}

/** Largest data message on the wire. */
export const DATA_MESSAGE_BYTES = 1024 * 1024;

function checkId(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new FsError('EINVAL', `invalid ${what} ${value}`);
  return value;
}

export const toIno = (value: number): Ino => checkId(value, 'inode number') as Ino;
export const toChunkId = (value: number): ChunkId => checkId(value, 'chunk id') as ChunkId;
