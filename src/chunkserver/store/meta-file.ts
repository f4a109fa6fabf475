/**
 * The meta file beside each chunk's data file: a small header (magic, format version, chunk id,
 * chunk version, data length) and one CRC32C per 64 KiB block.
 *
 * The file holds two copies ("slots") of that record, each with a sequence number and its own
 * CRC32C. An update writes the slot the previous update did not, so a write torn by a crash leaves
 * the other slot intact; a reader takes the valid slot with the highest sequence number. This makes
 * every meta update atomic without a rename and a directory fsync per write.
 *
 * After the two slots may follow the chunk's owner record (owner-record.ts: which file it belongs
 * to), written with the first slot when the chunk is created and never again. Slot format 1 is
 * unchanged by it: old meta files (no owner) read as before, and older servers ignore the record.
 */
import type { FileHandle } from 'node:fs/promises';
import { crc32c } from '@node-rs/crc32';
import { BLOCK_SIZE, MAX_BLOCKS, ZERO_BLOCK_CRC } from './checksum.js';
import { ChunkCorruptError } from './corrupt.js';
import { readAll, writeAll } from './layout.js';
import { decodeOwner, encodeOwner, MAX_OWNER_RECORD_BYTES, type ChunkOwner } from './owner-record.js';

const MAGIC = 0x4d545346; // "FSTM" little-endian
const FORMAT_VERSION = 1;
const HEADER_BYTES = 64;
const CRC_OFFSET = 60; // the slot's own CRC32C, over the header before it and the block table
const SLOT_BYTES = HEADER_BYTES + 4 * MAX_BLOCKS;

/** Size of a meta file's two slots (an owner record, if any, follows them). */
export const META_FILE_BYTES = 2 * SLOT_BYTES;
/** Most bytes a meta file takes: its slots and the largest owner record. */
export const META_FILE_MAX_BYTES = META_FILE_BYTES + MAX_OWNER_RECORD_BYTES;

/** What a meta file records about its chunk. */
export interface ChunkMeta {
  chunkId: number;
  version: number;
  /** Bytes of data; the data file is never longer. */
  length: number;
  /** CRC32C of each 64 KiB block (zero-padded); blocks past the length hold ZERO_BLOCK_CRC. */
  crcs: Uint32Array;
  /** Sequence number of the last slot written; the next write uses seq + 1. */
  seq: number;
}

export function newMeta(chunkId: number, version: number): ChunkMeta {
  return { chunkId, version, length: 0, crcs: new Uint32Array(MAX_BLOCKS).fill(ZERO_BLOCK_CRC), seq: 0 };
}

function encodeSlot(m: ChunkMeta): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt16LE(FORMAT_VERSION, 4);
  b.writeUInt16LE(HEADER_BYTES, 6);
  b.writeBigUInt64LE(BigInt(m.seq), 8);
  b.writeBigUInt64LE(BigInt(m.chunkId), 16);
  b.writeBigUInt64LE(BigInt(m.version), 24);
  b.writeBigUInt64LE(BigInt(m.length), 32);
  b.writeUInt32LE(BLOCK_SIZE, 40);
  b.writeUInt32LE(MAX_BLOCKS, 44);
  for (let i = 0; i < MAX_BLOCKS; i++) b.writeUInt32LE(m.crcs[i] ?? ZERO_BLOCK_CRC, HEADER_BYTES + 4 * i);
  b.writeUInt32LE(slotCrc(b), CRC_OFFSET);
  return b;
}

function slotCrc(slot: Buffer): number {
  return crc32c(slot.subarray(HEADER_BYTES), crc32c(slot.subarray(0, CRC_OFFSET)));
}

/** A slot's record, or why it is not valid. */
function decodeSlot(b: Buffer): ChunkMeta | string {
  if (b.length < SLOT_BYTES) return 'short slot';
  if (b.readUInt32LE(0) !== MAGIC) return 'bad magic';
  if (b.readUInt16LE(4) !== FORMAT_VERSION) return `unknown format version ${b.readUInt16LE(4)}`;
  if (b.readUInt32LE(CRC_OFFSET) !== slotCrc(b)) return 'slot checksum mismatch';
  if (b.readUInt32LE(40) !== BLOCK_SIZE || b.readUInt32LE(44) !== MAX_BLOCKS) return 'unexpected block geometry';
  const u64 = (off: number): number => Number(b.readBigUInt64LE(off));
  const length = u64(32);
  if (length > BLOCK_SIZE * MAX_BLOCKS) return `length ${length} out of range`;
  const crcs = new Uint32Array(MAX_BLOCKS);
  for (let i = 0; i < MAX_BLOCKS; i++) crcs[i] = b.readUInt32LE(HEADER_BYTES + 4 * i);
  return { seq: u64(8), chunkId: u64(16), version: u64(24), length, crcs };
}

/**
 * Reads the newest valid slot. Throws ChunkCorruptError (EIO) when neither slot is valid or the
 * record belongs to another chunk (a file copied or renamed by hand); a failed read is thrown as is.
 */
export async function readMeta(fh: FileHandle, chunkId: number): Promise<ChunkMeta> {
  const buf = Buffer.alloc(META_FILE_BYTES);
  const bytesRead = await readAll(fh, buf, 0);
  const slots = [decodeSlot(buf.subarray(0, Math.min(bytesRead, SLOT_BYTES))),
    decodeSlot(buf.subarray(SLOT_BYTES, Math.max(SLOT_BYTES, bytesRead)))];
  const valid = slots.filter((s): s is ChunkMeta => typeof s !== 'string');
  const best = valid.sort((a, b) => b.seq - a.seq)[0];
  if (!best) throw new ChunkCorruptError(chunkId, 'meta', `chunk ${chunkId}: unreadable meta file (${slots.join('; ')})`);
  if (best.chunkId !== chunkId) {
    throw new ChunkCorruptError(chunkId, 'meta', `chunk ${chunkId}: meta file belongs to chunk ${best.chunkId}`);
  }
  return best;
}

/** Writes `m` with the next sequence number into the slot not written last (no fsync here). */
export async function writeMeta(fh: FileHandle, m: ChunkMeta): Promise<void> {
  const next = { ...m, seq: m.seq + 1 };
  await writeAll(fh, encodeSlot(next), (next.seq % 2) * SLOT_BYTES);
  m.seq = next.seq;
}

/**
 * The first record of a new chunk's meta file, with its owner record when it has one, in one write:
 * the first update goes to slot 1, which the owner record follows directly.
 */
export async function writeNewMeta(fh: FileHandle, m: ChunkMeta, owner: ChunkOwner | undefined): Promise<void> {
  if (m.seq !== 0) throw new Error(`chunk ${m.chunkId}: a new meta record has sequence 0, not ${m.seq}`);
  const next = { ...m, seq: 1 };
  const slot = encodeSlot(next);
  await writeAll(fh, owner ? Buffer.concat([slot, encodeOwner(owner)]) : slot, SLOT_BYTES);
  m.seq = next.seq;
}

/**
 * The owner record after the slots: undefined when the file has none, a string saying why when it
 * is damaged (it then counts as none). A failed read is thrown as is.
 */
export async function readOwner(fh: FileHandle): Promise<ChunkOwner | string | undefined> {
  const buf = Buffer.alloc(MAX_OWNER_RECORD_BYTES);
  const n = await readAll(fh, buf, META_FILE_BYTES);
  return decodeOwner(buf.subarray(0, n));
}
