/**
 * FileReader: reads of one file handle from the chunkservers, with sequential read-ahead.
 *
 * A read near where the previous one ended is sequential: it is served from block-aligned fetches
 * (`blockBytes`, 1 MiB: one ReadRange call each, whose answer is the block) kept in a small per-handle
 * cache, and the blocks ahead of it are fetched in the background, the window doubling up to
 * `readAheadBytes`. Blocks behind the reader are dropped. Concurrent reads of a block share its
 * fetch (single flight). Any other read fetches just the range asked, cut into blocks fetched in
 * parallel and not cached, so random small reads cost no more than they ask for.
 *
 * The cache is per handle and holds what the chunkservers had when it was fetched: the handle
 * invalidates it after its own writes commit and after a truncate (close-to-open consistency for
 * other writers). Blocks that ended at end of file expire after a second, so a reader of a growing
 * file sees it grow.
 */
import { CHUNK_SIZE } from '../../common/ids.js';
import type { ChunkClient } from '../chunk-client.js';
import { Limiter } from '../concurrency.js';
import type { LocateResult, MetaClient } from '../meta-client.js';
import type { BlockCache } from '../cache/block-cache.js';

export interface ReadOptions {
  /** Bytes per read-ahead block (one ReadRange call when 1 MiB or less). @default 1048576 (1 MiB) */
  blockBytes?: number;
  /** Largest read-ahead window of a sequential reader. @default 33554432 (32 MiB) */
  readAheadBytes?: number;
  /** Chunk reads one handle runs at once. @default 4 */
  parallelReads?: number;
  /** Bytes per chunk; only tests change it. @default CHUNK_SIZE */
  chunkSize?: number;
}

/**
 * What a mount adds to a reader: a block cache shared by all its files (with the key prefix that
 * names this file's current contents) and a per-file cache of chunk locations.
 */
export interface SharedReadCaches {
  blocks: BlockCache;
  /** Identifies the file and its version (ino + mtime + size): blocks of other versions never match. */
  keyPrefix: () => string;
  /** Chunk locations for a range (cached by the open file until its data changes). */
  locate: (offset: number, length: number) => Promise<LocateResult>;
  /** Drops cached locations that a chunkserver refused (moved version, replicas gone). */
  forgetLocations: () => void;
}

export const READ_DEFAULTS: Required<ReadOptions> = {
  blockBytes: 1024 * 1024,
  readAheadBytes: 32 * 1024 * 1024,
  parallelReads: 4,
  chunkSize: CHUNK_SIZE,
};

/**
 * How far from where the last read ended a read still counts as sequential. The kernel's read-ahead
 * sends reads of up to 1 MiB (mount-options.ts), several at once, which may arrive out of order; a
 * random read lands this close to the last by chance (4 MiB of the file's size), and then costs a
 * block fetch and read-ahead: the slack was a 4 MiB block before, and such reads doubled the bytes
 * a cold 4 KiB random read moved.
 */
const SEQUENTIAL_SLACK = 2 * 1024 * 1024;

/** How long a block cut short by the end of file is trusted. */
const SHORT_BLOCK_TTL_MS = 1000;
const EMPTY = Buffer.alloc(0);

/** Bytes of the file starting at the block's offset (shorter at end of file) and the size seen. */
interface Block {
  data: Buffer;
  size: number;
}

interface CachedBlock {
  fetch: Promise<Block>;
  staleAt: number;
}

export interface ReadResult {
  /** The bytes read: shorter than asked at end of file. */
  data: Buffer;
  /** The file size the master reported. */
  size: number;
}

export class FileReader {
  private readonly opts: Required<ReadOptions>;
  private readonly blocks = new Map<number, CachedBlock>();
  private readonly limiter: Limiter;
  /** Where the last read ended: 0 at first, so a read from the start counts as sequential. */
  private seqEnd = 0;
  private window = 0;
  private knownSize = -1;

  constructor(
    private readonly meta: MetaClient,
    private readonly chunks: ChunkClient,
    private readonly ino: number,
    options: ReadOptions = {},
    private readonly shared?: SharedReadCaches,
  ) {
    this.opts = { ...READ_DEFAULTS, ...options };
    if (this.opts.chunkSize % this.opts.blockBytes !== 0) throw new RangeError('blockBytes must divide the chunk size');
    this.limiter = new Limiter(this.opts.parallelReads);
  }

  /** Forgets every cached block (the file changed under this handle). */
  invalidate(): void {
    this.blocks.clear();
  }

  /**
   * Reads [position, position + length), clipped to the file size. With `view`, a read inside one
   * cached block returns a view of it instead of a copy: the caller must not modify it (the FUSE
   * adapter only copies it into the kernel's buffer).
   */
  async read(position: number, length: number, view = false): Promise<ReadResult> {
    const bs = this.opts.blockBytes;
    const sequential = position >= this.seqEnd - SEQUENTIAL_SLACK && position <= this.seqEnd + SEQUENTIAL_SLACK;
    this.seqEnd = sequential ? Math.max(this.seqEnd, position + length) : position + length;
    this.window = sequential ? Math.min(this.opts.readAheadBytes, Math.max(bs, this.window * 2)) : 0;
    if (length <= 0) return { data: EMPTY, size: Math.max(0, this.knownSize) };
    if (!sequential) return this.readDirect(position, length);

    const first = Math.floor(position / bs);
    const last = Math.floor((position + length - 1) / bs);
    let ahead = last + Math.ceil(this.window / bs);
    if (this.knownSize >= 0) ahead = Math.max(last, Math.min(ahead, Math.floor((this.knownSize - 1) / bs)));
    this.ensure(first, ahead);
    const wanted: Array<Promise<Block>> = [];
    for (let i = first; i <= last; i++) wanted.push(this.blocks.get(i)!.fetch);
    for (const i of this.blocks.keys()) if (i < first) this.blocks.delete(i);
    const got = await Promise.all(wanted);
    const size = got.reduce((s, b) => Math.max(s, b.size), 0);
    const end = Math.min(position + length, size);
    if (end <= position) return { data: EMPTY, size };
    const only = got[0];
    if (view && got.length === 1 && only && only.data.length >= end - first * bs) {
      return { data: only.data.subarray(position - first * bs, end - first * bs), size };
    }
    const out = Buffer.allocUnsafe(end - position);
    got.forEach((block, k) => {
      const blockStart = (first + k) * bs;
      const from = Math.max(position, blockStart);
      const to = Math.min(end, blockStart + bs);
      if (to <= from) return;
      const srcFrom = Math.min(block.data.length, from - blockStart);
      const copied = block.data.copy(out, from - position, srcFrom, Math.min(block.data.length, to - blockStart));
      // A block fetched when the file was shorter: what it lacks reads as zeros.
      if (copied < to - from) out.fill(0, from - position + copied, to - position);
    });
    return { data: out, size };
  }

  /** Starts fetches for the blocks in [from, to] not cached (or expired), one locate per run. */
  private ensure(from: number, to: number): void {
    const now = Date.now();
    let runStart = -1;
    for (let i = from; i <= to + 1; i++) {
      const cached = this.blocks.get(i);
      const missing = i <= to && (!cached || cached.staleAt <= now);
      if (missing && runStart < 0) runStart = i;
      if (!missing && runStart >= 0) {
        this.fetchRun(runStart, i - 1);
        runStart = -1;
      }
    }
  }

  private fetchRun(first: number, last: number): void {
    const bs = this.opts.blockBytes;
    const located = this.locate(first * bs, (last - first + 1) * bs);
    for (let i = first; i <= last; i++) {
      const entry: CachedBlock = { fetch: this.sharedBlock(i, located), staleAt: Infinity };
      this.blocks.set(i, entry);
      entry.fetch.then(
        (b) => { if (b.data.length < bs) entry.staleAt = Date.now() + SHORT_BLOCK_TTL_MS; },
        // A failed fetch is forgotten (the reader waiting on it gets the error); the next read retries.
        () => { if (this.blocks.get(i) === entry) this.blocks.delete(i); },
      );
    }
  }

  /** Block i through the shared cache (single flight across descriptors), or fetched directly. */
  private async sharedBlock(i: number, located: Promise<LocateResult>): Promise<Block> {
    if (!this.shared) return this.fetchBlock(i, located);
    const l = await located;
    const data = await this.shared.blocks.get(`${this.shared.keyPrefix()}:s${i}`, async () => (await this.fetchBlock(i, Promise.resolve(l))).data);
    return { data, size: l.size };
  }

  private async fetchBlock(i: number, located: Promise<LocateResult>): Promise<Block> {
    const l = await located;
    const start = i * this.opts.blockBytes;
    const n = Math.min(this.opts.blockBytes, l.size - start);
    if (n <= 0) return { data: EMPTY, size: l.size };
    return { data: await this.fetchPiece(start, n, l), size: l.size };
  }

  private async locate(offset: number, length: number): Promise<LocateResult> {
    const res = this.shared ? await this.shared.locate(offset, length) : await this.meta.locateChunks(this.ino, offset, length);
    this.knownSize = res.size;
    return res;
  }

  /**
   * The range asked, cut at block boundaries, fetched in parallel and not cached: a random read
   * moves only what it asks for (the kernel keeps the pages it read, across opens too). Fetching
   * and caching the 64 KiB around each read instead cost a mount about 120 us more CPU per cold
   * 4 KiB read, for hits that the kernel's page cache now mostly gets first.
   */
  private async readDirect(position: number, length: number): Promise<ReadResult> {
    const located = await this.locate(position, length);
    const end = Math.min(position + length, located.size);
    if (end <= position) return { data: EMPTY, size: located.size };
    const out = Buffer.allocUnsafe(end - position);
    const bs = this.opts.blockBytes;
    const parts: Array<Promise<void>> = [];
    for (let from = position; from < end;) {
      const to = Math.min(end, (Math.floor(from / bs) + 1) * bs);
      const at = from;
      parts.push(this.fetchPiece(at, to - at, located).then((data) => { data.copy(out, at - position); }));
      from = to;
    }
    await Promise.all(parts);
    return { data: out, size: located.size };
  }

  /** `n` bytes at file offset `start`, inside one chunk; a hole reads as zeros. */
  private async fetchPiece(start: number, n: number, located: LocateResult): Promise<Buffer> {
    if (located.inline) return inlinePiece(located.inline, start, n);
    const index = Math.floor(start / this.opts.chunkSize);
    const within = start - index * this.opts.chunkSize;
    const loc = located.chunks.find((c) => c.index === index);
    if (!loc) return Buffer.alloc(n);
    try {
      return await this.limiter.run(() => this.chunks.readRange(loc, within, n));
    } catch {
      // Every replica failed: the chunk may have a new version or new replicas. Ask again, once,
      // and stop trusting cached locations so later reads do not fail over the same way.
      this.shared?.forgetLocations();
      const again = await this.meta.locateChunks(this.ino, start, n);
      if (again.inline) return inlinePiece(again.inline, start, n);
      const fresh = again.chunks.find((c) => c.index === index);
      if (!fresh) return Buffer.alloc(n);
      return this.limiter.run(() => this.chunks.readRange(fresh, within, n));
    }
  }
}

/** Bytes [start, start + n) of a file kept inline: its data, then zeros. */
function inlinePiece(data: Buffer, start: number, n: number): Buffer {
  if (start >= data.length) return Buffer.alloc(n);
  if (start + n <= data.length) return data.subarray(start, start + n);
  const out = Buffer.alloc(n);
  data.copy(out, 0, start);
  return out;
}
