/**
 * Block checksums of a chunk. A chunk is cut into 64 KiB blocks, each with one CRC32C. The CRC of a
 * block is always taken over the full 64 KiB, with every byte past the chunk's data length counted
 * as zero: holes, the tail block and blocks past the end then need no special case, and growing a
 * chunk (ftruncate up) never changes a stored checksum.
 */
import { crc32c } from '@node-rs/crc32';
import { CHECKSUM_BLOCK, CHUNK_SIZE } from '../../common/ids.js';
import { ChunkCorruptError } from './corrupt.js';

export const BLOCK_SIZE = CHECKSUM_BLOCK;
export const MAX_BLOCKS = CHUNK_SIZE / CHECKSUM_BLOCK;

/** Shared, never written: the zero padding of short blocks. */
const ZEROS = Buffer.alloc(BLOCK_SIZE);

/** CRC32C of a block of zeros: the checksum of every hole and of every block past the end. */
export const ZERO_BLOCK_CRC = crc32c(ZEROS);

/** CRC32C of one block that holds `bytes` at `at` and zeros elsewhere (no buffer is built). */
export function blockCrc(bytes: Uint8Array, at = 0): number {
  const after = BLOCK_SIZE - at - bytes.length;
  if (at < 0 || after < 0) throw new RangeError(`${bytes.length} bytes at ${at} do not fit in a block`);
  let crc = at > 0 ? crc32c(ZEROS.subarray(0, at)) : undefined;
  crc = crc32c(bytes, crc);
  return after > 0 ? crc32c(ZEROS.subarray(0, after), crc) : crc;
}

/** True when `bytes` (at most 64 KiB) are all zeros: such a block need not be written to disk. */
export function isZeroBlock(bytes: Uint8Array): boolean {
  return bytes.length <= BLOCK_SIZE && ZEROS.subarray(0, bytes.length).equals(bytes);
}

/** Number of blocks that hold bytes of a chunk of `length` bytes. */
export function blocksFor(length: number): number {
  return Math.ceil(length / BLOCK_SIZE);
}

/** The error of a block whose bytes do not match their checksum: data is never returned then. */
export function checksumError(chunkId: number, block: number, stored: number, actual: number): ChunkCorruptError {
  return new ChunkCorruptError(
    chunkId,
    'checksum',
    `chunk ${chunkId} block ${block}: checksum mismatch (stored ${hex(stored)}, data ${hex(actual)})`,
    block,
  );
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');
