/**
 * Argument checks for ChunkserverService requests. A request decoded from the wire may carry any
 * value (proto3 defaults for absent fields, numbers past 2^53), so every handler checks its fields
 * here first and answers EINVAL with a message naming the field.
 *
 * uint64 fields: protobufjs decodes them as Long objects whenever its runtime finds the `long`
 * package, whatever pbjs --force-number put in the typings (the generated code was set to decode
 * numbers later). Every uint64 read from a decoded message goes through uint64(), which takes
 * both and refuses values of 2^53 and more instead of rounding them.
 */
import { FsError } from '../../common/errors/errno.js';
import { parseHostPort } from '../../common/config/address.js';
import { CHUNK_SIZE, DATA_MESSAGE_BYTES } from '../../common/ids.js';
import type { ChunkOwner } from '../store/owner-record.js';

interface LongLike {
  low: number;
  high: number;
}

/** A decoded uint64 as a number, or NaN when it is not an integer below 2^53. */
export function uint64(v: unknown): number {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : NaN;
  if (typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number') {
    const n = (v as LongLike).high * 2 ** 32 + ((v as LongLike).low >>> 0);
    return (v as LongLike).high >= 0 && Number.isSafeInteger(n) ? n : NaN;
  }
  return NaN;
}

/** uint64() for values a peer sent back (EIO: the peer, not our caller, is wrong). */
export function peerUint64(v: unknown, what: string): number {
  const n = uint64(v);
  if (Number.isNaN(n)) throw new FsError('EIO', `peer sent an invalid ${what}`);
  return n;
}

export function chunkIdOf(raw: unknown): number {
  const v = uint64(raw);
  if (Number.isNaN(v) || v === 0) throw new FsError('EINVAL', `invalid chunk_id ${String(raw)}: expected an integer in 1..2^53-1`);
  return v;
}

export function versionOf(raw: unknown, field = 'version'): number {
  const v = uint64(raw);
  if (Number.isNaN(v)) throw new FsError('EINVAL', `invalid ${field} ${String(raw)}`);
  return v;
}

/** A lease duration (uint32 lease_ms; absent is 0: no lease). */
export function leaseMsOf(raw: unknown): number {
  const v = raw ?? 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new FsError('EINVAL', `invalid lease_ms ${String(raw)}`);
  return v;
}

/** A byte range inside one chunk: offset + length <= 64 MiB. */
export function rangeOf(rawOffset: unknown, rawLength: unknown, field = 'length'): { offset: number; length: number } {
  const offset = uint64(rawOffset);
  const length = uint64(rawLength);
  if (!(offset <= CHUNK_SIZE)) throw new FsError('EINVAL', `invalid offset ${String(rawOffset)}`);
  if (!(offset + length <= CHUNK_SIZE)) {
    throw new FsError('EINVAL', `invalid ${field} ${String(rawLength)} at offset ${offset}: a chunk holds at most ${CHUNK_SIZE} bytes`);
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

/**
 * A ChunkOwner message (absent: undefined). `peer`: sent back by a peer (a copy's source), whose
 * invalid owner is dropped rather than failing the copy; from a caller it is EINVAL.
 */
export function ownerOf(raw: { ino?: unknown; index?: unknown; path?: unknown } | null | undefined, peer = false): ChunkOwner | undefined {
  if (!raw) return undefined;
  const ino = uint64(raw.ino ?? 0);
  const index = uint64(raw.index ?? 0);
  const path = raw.path ?? '';
  if (Number.isNaN(ino) || ino === 0 || Number.isNaN(index) || typeof path !== 'string') {
    if (peer) return undefined;
    throw new FsError('EINVAL', `invalid owner (ino ${String(raw.ino)}, index ${String(raw.index)})`);
  }
  return { ino, index, path };
}
