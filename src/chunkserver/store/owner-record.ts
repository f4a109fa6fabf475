/**
 * The owner record: which file a chunk belongs to (inode, chunk index, and the file's path when the
 * master created the chunk), kept after the two slots of the chunk's meta file (meta-file.ts) so
 * that `fstadmin metadata rebuild` can put files back together from the chunkservers alone when
 * the master's metadata is lost.
 *
 * Written once, when the chunk is created (in the same write as its first meta record) or a copy
 * of it is made, and never changed: version moves and writes rewrite the slots only. It carries its
 * own magic, format version and CRC32C. A meta file without one (written before owners existed, or
 * for a chunk whose creator sent none) simply ends after the slots, and a chunkserver that predates
 * owners reads the slots and ignores what follows. A damaged record counts as none: it only ever
 * serves a rebuild, never the chunk's data.
 *
 * Layout (little-endian): magic "FSTO" u32, format u16, path length u16, ino u64, index u64, the
 * path (UTF-8), then the CRC32C of everything before it.
 */
import { crc32c } from '@node-rs/crc32';

/** Which file a chunk belongs to. */
export interface ChunkOwner {
  ino: number;
  /** The chunk's index in the file. */
  index: number;
  /** One path of the file when the chunk was created; "" when it had none (or it was too long). */
  path: string;
}

const MAGIC = 0x4f545346; // "FSTO" little-endian
const FORMAT = 1;
const HEAD_BYTES = 24;
/** Longest path kept; a longer one is recorded as "" (the inode and index are what rebuild needs). */
export const MAX_OWNER_PATH_BYTES = 4096;
/** The largest record: what a reader asks for. */
export const MAX_OWNER_RECORD_BYTES = HEAD_BYTES + MAX_OWNER_PATH_BYTES + 4;

export function encodeOwner(o: ChunkOwner): Buffer {
  let path = Buffer.from(o.path, 'utf8');
  if (path.length > MAX_OWNER_PATH_BYTES) path = Buffer.alloc(0);
  const b = Buffer.alloc(HEAD_BYTES + path.length + 4);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt16LE(FORMAT, 4);
  b.writeUInt16LE(path.length, 6);
  b.writeBigUInt64LE(BigInt(o.ino), 8);
  b.writeBigUInt64LE(BigInt(o.index), 16);
  path.copy(b, HEAD_BYTES);
  b.writeUInt32LE(crc32c(b.subarray(0, HEAD_BYTES + path.length)), HEAD_BYTES + path.length);
  return b;
}

/** The record at the start of `b`: undefined when there is none (nothing there), or why it is invalid. */
export function decodeOwner(b: Buffer): ChunkOwner | string | undefined {
  if (b.length === 0) return undefined;
  if (b.length < HEAD_BYTES + 4) return 'short owner record';
  if (b.readUInt32LE(0) !== MAGIC) return 'bad owner record magic';
  if (b.readUInt16LE(4) !== FORMAT) return `unknown owner record format ${b.readUInt16LE(4)}`;
  const n = b.readUInt16LE(6);
  if (n > MAX_OWNER_PATH_BYTES || b.length < HEAD_BYTES + n + 4) return 'short owner record';
  if (b.readUInt32LE(HEAD_BYTES + n) !== crc32c(b.subarray(0, HEAD_BYTES + n))) return 'owner record checksum mismatch';
  const ino = Number(b.readBigUInt64LE(8));
  const index = Number(b.readBigUInt64LE(16));
  if (!Number.isSafeInteger(ino) || !Number.isSafeInteger(index)) return 'owner record out of range';
  return { ino, index, path: b.toString('utf8', HEAD_BYTES, HEAD_BYTES + n) };
}
