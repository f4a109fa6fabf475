/**
 * The dirty bytes of one chunk: sorted, non-overlapping extents, offsets relative to the chunk.
 *
 * Every write is copied in exactly once (callers may reuse their buffers) and later writes win
 * where they overlap earlier ones. Overlapped extents are trimmed, never split: a write that falls
 * inside one extent is copied into it in place. A write that continues an extent is copied into
 * the extent's spare capacity; when that is full, a new adjacent extent with twice the capacity
 * (up to 1 MiB) is started instead of reallocating and copying the old one, so a stream of small
 * sequential writes (FUSE's 128 KiB, an application's 4 KiB) costs one copy per byte and ends up
 * as 1 MiB extents, the size of a WriteRange piece.
 */
import { DATA_MESSAGE_BYTES } from '../../common/ids.js';

/** Dirty bytes [offset, offset + length) held in buf[0, length); buf.length is the capacity. */
export interface Extent {
  offset: number;
  length: number;
  buf: Buffer;
}

/** Extents grown by sequential writes stop at this capacity (one WriteRange piece). */
export const GROWN_EXTENT_MAX = DATA_MESSAGE_BYTES;

export class ChunkExtents {
  /** Sorted by offset, never overlapping (adjacent extents are fine). */
  readonly extents: Extent[] = [];
  /** Dirty bytes held (not capacity). */
  bytes = 0;

  constructor(readonly chunkSize: number) {}

  /** Offset just past the last dirty byte (0 when empty). */
  get end(): number {
    const last = this.extents[this.extents.length - 1];
    return last ? last.offset + last.length : 0;
  }

  /** Index of the first extent ending after `offset`. */
  private firstEndingAfter(offset: number): number {
    let lo = 0;
    let hi = this.extents.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.extents[mid]!;
      if (e.offset + e.length > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Copies `data` in at `offset` (within the chunk), replacing what it overlaps. */
  insert(offset: number, data: Buffer): void {
    const n = data.length;
    if (n === 0) return;
    if (offset < 0 || offset + n > this.chunkSize) throw new RangeError(`extent [${offset}, ${offset + n}) outside the chunk`);
    const end = offset + n;
    let i = this.firstEndingAfter(offset);
    const hit = this.extents[i];
    if (hit && hit.offset <= offset && end <= hit.offset + hit.length) {
      data.copy(hit.buf, offset - hit.offset);
      return;
    }
    // Make room: trim the extents overlapping [offset, end).
    while (i < this.extents.length) {
      const e = this.extents[i]!;
      if (e.offset >= end) break;
      const eEnd = e.offset + e.length;
      if (e.offset < offset) {
        // Keeps its head; its tail is covered (it cannot also reach past `end`: that was the in-place case).
        this.bytes -= eEnd - offset;
        e.length = offset - e.offset;
        i++;
      } else if (eEnd <= end) {
        this.bytes -= e.length;
        this.extents.splice(i, 1);
      } else {
        const cut = end - e.offset;
        e.buf = e.buf.subarray(cut);
        e.offset = end;
        e.length -= cut;
        this.bytes -= cut;
        break;
      }
    }
    this.bytes += n;
    // Continue the extent just before, in its spare capacity when the write fits there.
    const prev = i > 0 ? this.extents[i - 1] : undefined;
    if (prev && prev.offset + prev.length === offset && prev.buf.length - prev.length >= n) {
      data.copy(prev.buf, prev.length);
      prev.length += n;
      return;
    }
    let capacity = n;
    if (prev && prev.offset + prev.length === offset) {
      // A sequential writer: give the new extent room for what is likely to follow, but never past
      // the next extent or the chunk's end.
      const next = this.extents[i];
      const room = (next ? next.offset : this.chunkSize) - offset;
      capacity = Math.max(n, Math.min(GROWN_EXTENT_MAX, 2 * prev.buf.length, room));
    }
    const buf = Buffer.allocUnsafe(capacity);
    data.copy(buf, 0);
    this.extents.splice(i, 0, { offset, length: n, buf });
  }

  /** The extents as views of their dirty bytes, in offset order. */
  pieces(): Array<{ offset: number; data: Buffer }> {
    return this.extents.map((e) => ({ offset: e.offset, data: e.buf.subarray(0, e.length) }));
  }

  /**
   * Copies the dirty bytes overlapping [from, from + target.length) of this chunk into `target`
   * (target[0] is chunk offset `from`), so a read sees writes not yet flushed.
   */
  overlay(from: number, target: Buffer): void {
    const to = from + target.length;
    for (let i = this.firstEndingAfter(from); i < this.extents.length; i++) {
      const e = this.extents[i]!;
      if (e.offset >= to) break;
      const s = Math.max(from, e.offset);
      const t = Math.min(to, e.offset + e.length);
      e.buf.copy(target, s - from, s - e.offset, t - e.offset);
    }
  }
}
