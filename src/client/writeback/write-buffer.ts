/**
 * The dirty data of one file handle, as file -> chunk -> extents: a write is cut at chunk
 * boundaries and each piece goes to that chunk's ChunkExtents. A flush takes a whole WriteBuffer
 * and turns it into one job per chunk (`chunkJobs`), which ChunkClient.writeStream sends.
 */
import { CHUNK_SIZE } from '../../common/ids.js';
import { ChunkExtents } from './chunk-extents.js';
import type { WritePiece } from '../chunk-client.js';

/** The dirty pieces of one chunk, offsets within the chunk, in order. */
export interface ChunkJob {
  index: number;
  pieces: WritePiece[];
  bytes: number;
}

export class WriteBuffer {
  private readonly chunks = new Map<number, ChunkExtents>();
  /** Dirty bytes held. */
  bytes = 0;
  /** File offset just past the last dirty byte (0 when empty). */
  end = 0;

  constructor(readonly chunkSize: number = CHUNK_SIZE) {}

  get isEmpty(): boolean {
    return this.chunks.size === 0;
  }

  /** Copies `data` in at file offset `position`; later writes win where they overlap. */
  insert(position: number, data: Buffer): void {
    if (data.length === 0) return;
    let pos = position;
    let rest = data;
    while (rest.length > 0) {
      const index = Math.floor(pos / this.chunkSize);
      const within = pos - index * this.chunkSize;
      const n = Math.min(rest.length, this.chunkSize - within);
      let chunk = this.chunks.get(index);
      if (!chunk) {
        chunk = new ChunkExtents(this.chunkSize);
        this.chunks.set(index, chunk);
      }
      const before = chunk.bytes;
      chunk.insert(within, rest.subarray(0, n));
      this.bytes += chunk.bytes - before;
      pos += n;
      rest = rest.subarray(n);
    }
    this.end = Math.max(this.end, position + data.length);
  }

  /** Copies the dirty bytes overlapping [position, position + target.length) into `target`. */
  overlay(position: number, target: Buffer): void {
    if (target.length === 0 || this.chunks.size === 0) return;
    const last = position + target.length;
    for (let index = Math.floor(position / this.chunkSize); index * this.chunkSize < last; index++) {
      const chunk = this.chunks.get(index);
      if (!chunk) continue;
      const base = index * this.chunkSize;
      const from = Math.max(position, base);
      const to = Math.min(last, base + this.chunkSize);
      chunk.overlay(from - base, target.subarray(from - position, to - position));
    }
  }

  /** One job per dirty chunk, by chunk index. The pieces view this buffer's memory. */
  chunkJobs(): ChunkJob[] {
    return [...this.chunks.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, chunk]) => ({ index, pieces: chunk.pieces(), bytes: chunk.bytes }));
  }
}
