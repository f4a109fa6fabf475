/**
 * Argument checks for ChunkserverService requests. A request decoded from the wire may carry any
 * value (proto3 defaults for absent fields, imprecise numbers past 2^53), so every handler checks
 * its fields here first and answers EINVAL with a message naming the field.
 */
import { FsError } from '../../common/errors/errno.js';
import { parseHostPort } from '../../common/config/address.js';
import { CHUNK_SIZE, DATA_MESSAGE_BYTES } from '../../common/ids.js';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function chunkIdOf(v: unknown): number {
  if (!isCount(v) || v === 0) throw new FsError('EINVAL', `invalid chunk_id ${String(v)}: expected an integer in 1..2^53-1`);
  return v;
}

export function versionOf(v: unknown, field = 'version'): number {
  if (!isCount(v)) throw new FsError('EINVAL', `invalid ${field} ${String(v)}`);
  return v;
}

/** A byte range inside one chunk: offset + length <= 64 MiB. */
export function rangeOf(offset: unknown, length: unknown, field = 'length'): { offset: number; length: number } {
  if (!isCount(offset) || offset > CHUNK_SIZE) throw new FsError('EINVAL', `invalid offset ${String(offset)}`);
  if (!isCount(length) || offset + length > CHUNK_SIZE) {
    throw new FsError('EINVAL', `invalid ${field} ${String(length)} at offset ${offset}: a chunk holds at most ${CHUNK_SIZE} bytes`);
  }
  return { offset, length };
}

/** The payload of one data message: at most 1 MiB, inside the chunk. */
export function dataOf(offset: unknown, data: unknown): { offset: number; data: Uint8Array } {
  if (!(data instanceof Uint8Array)) throw new FsError('EINVAL', 'data is not bytes');
  if (data.length > DATA_MESSAGE_BYTES) {
    throw new FsError('EINVAL', `data message of ${data.length} bytes: at most ${DATA_MESSAGE_BYTES} allowed`);
  }
  return { offset: rangeOf(offset, data.length, 'data length').offset, data };
}

/** host:port of a peer chunkserver. */
export function addressOf(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new FsError('EINVAL', `missing ${field}`);
  parseHostPort(v, field);
  return v;
}
