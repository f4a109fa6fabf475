/**
 * FileWriter: write-back for one file handle (JuiceFS's file -> chunk -> slice writers).
 *
 * Writes are copied into the current WriteBuffer. When it holds `flushThresholdBytes`, it becomes a
 * flight: its chunk jobs go to the ChunkWriter (streams on different chunks run in parallel) and,
 * once every replica has them, one CommitWrite publishes the new size and mtime. New writes meanwhile go
 * into a fresh buffer, so writing and flushing overlap. Flights commit in the order they started.
 *
 * Memory is bounded by `budgetBytes` (buffered + in flight): a write that would pass it waits for a
 * flight to end. A failed flight's error is kept and thrown by every later write and flush: once
 * data may be lost the handle says so until it is closed, and never drops the error.
 *
 * Small files (inline-writer.ts): while the file, with the flight laid over it, is no larger than
 * the master's inline limit and keeps no chunks, the flight is one WriteInline of the whole content
 * instead of chunk writes. A file growing past the limit moves to chunks: its inline bytes go to
 * chunk 0 with the flight, and the commit drops them from the metadata.
 */
import type { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import { Notifier } from '../concurrency.js';
import type { MetaClient } from '../meta-client.js';
import type { Attr } from '../types.js';
import { ChunkWriter } from './chunk-writer.js';
import { InlineWriter, type InlineBase } from './inline-writer.js';
import type { MemoryBudget } from './memory-budget.js';
import type { UnsyncedChunks } from './unsynced-chunks.js';
import { WriteBuffer } from './write-buffer.js';

export interface WritebackOptions {
  /** Buffered bytes that start a flush. @default 33554432 (32 MiB) */
  flushThresholdBytes?: number;
  /** Most bytes one handle holds, buffered plus being flushed; writes past it wait. @default 134217728 (128 MiB) */
  budgetBytes?: number;
  /** Chunk streams one handle runs at once. @default 4 */
  parallelChunks?: number;
  /** Bytes per chunk; only tests change it. @default CHUNK_SIZE */
  chunkSize?: number;
  /** Buffered data older than this is sent even if nothing asks for it (0: never). @default 0 */
  idleFlushMs?: number;
}

export const WRITEBACK_DEFAULTS: Required<WritebackOptions> = {
  flushThresholdBytes: 32 * 1024 * 1024,
  budgetBytes: 128 * 1024 * 1024,
  parallelChunks: 4,
  chunkSize: CHUNK_SIZE,
  idleFlushMs: 0,
};

/** Pending writes as of one moment: their end and a way to copy them over read data. */
export interface PendingSnapshot {
  end: number;
  /** Copies pending bytes overlapping [position, position + target.length) into `target`, oldest first. */
  overlay(position: number, target: Buffer): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * Read-your-writes: lays the writes still pending (taken before the read started) over what the
 * chunkservers returned for [position, position + length). Pending writes past the master's size
 * extend the result, the gap up to them reading as zeros.
 */
export function overlayPending(pending: PendingSnapshot | undefined, read: { data: Buffer; size: number }, position: number, length: number): Buffer {
  const { data, size } = read;
  if (!pending || pending.end === 0) return data;
  const end = Math.min(position + length, Math.max(size, pending.end));
  if (end <= position) return EMPTY;
  let out = data;
  if (data.length < end - position) {
    out = Buffer.alloc(end - position);
    data.copy(out);
  }
  pending.overlay(position, out);
  return out;
}

interface Flight {
  buffer: WriteBuffer;
  done: Promise<void>;
}

export interface FileWriterDeps {
  meta: MetaClient;
  chunks: ChunkClient;
  log: Logger;
  /** The client's record of chunks written without sync, which fsync makes durable. */
  unsynced: UnsyncedChunks;
  /** The mount-wide limit that this file's buffers count against, if any. */
  memory?: MemoryBudget;
}

export class FileWriter {
  private readonly opts: Required<WritebackOptions>;
  private current: WriteBuffer;
  private readonly flights: Flight[] = [];
  private inflightBytes = 0;
  private lastFlight: Promise<void> = Promise.resolve();
  private failure: FsError | undefined;
  private readonly released = new Notifier();
  private readonly chunkWriter: ChunkWriter;
  private readonly meta: MetaClient;
  private readonly log: Logger;
  private readonly shared: MemoryBudget | undefined;
  private readonly inline: InlineWriter;
  /** A commit of this writer may not be on the master's disk yet (fsync makes it so). */
  private metaUnsynced = false;

  constructor(
    deps: FileWriterDeps,
    private readonly ino: number,
    options: WritebackOptions,
    /**
     * Called after each successful commit with the file's new attributes (and, for an inline
     * write, the file's whole new content).
     */
    private readonly onCommit: (attr: Attr, inline?: Buffer) => void,
    /** What the opener knows of the file's content (see InlineBase); undefined: asked when needed. */
    base?: InlineBase,
  ) {
    this.opts = { ...WRITEBACK_DEFAULTS, ...options };
    this.meta = deps.meta;
    this.log = deps.log;
    this.shared = deps.memory;
    this.current = new WriteBuffer(this.opts.chunkSize);
    this.chunkWriter = new ChunkWriter(deps.meta, deps.chunks, ino, this.opts.parallelChunks, deps.unsynced, deps.log);
    this.inline = new InlineWriter(deps.meta, ino, base);
  }

  /** The file was truncated to `attr.size` outside this writer: its view of the content is out of date. */
  truncated(attr: Attr): void {
    this.inline.truncated(attr);
  }

  /** The stored flush error, if a flush failed. */
  get error(): FsError | undefined {
    return this.failure;
  }

  /** Bytes held: buffered plus in flight. */
  get pendingBytes(): number {
    return this.current.bytes + this.inflightBytes;
  }

  /** File offset just past the last byte not yet committed (0 when nothing is pending). */
  get pendingEnd(): number {
    return this.flights.reduce((end, f) => Math.max(end, f.buffer.end), this.current.end);
  }

  /**
   * The bytes pending now, for a read to lay over what it gets from the chunkservers. Taken before
   * the read starts: a flight that commits while the read is in progress may or may not be in what
   * the chunkservers returned, but it is in the snapshot.
   */
  snapshot(): PendingSnapshot {
    const buffers = [...this.flights.map((f) => f.buffer), this.current];
    return {
      end: this.pendingEnd,
      overlay: (position, target) => {
        for (const b of buffers) b.overlay(position, target);
      },
    };
  }

  /** Buffers `data` at `position` (copied), waiting while the handle's budget is spent. */
  async write(position: number, data: Buffer): Promise<void> {
    this.throwIfFailed();
    // Cut very large writes so that no single piece can overrun the budget.
    for (let done = 0; done < data.length;) {
      const n = Math.min(this.opts.flushThresholdBytes, data.length - done);
      await this.reserve(n);
      const before = this.current.bytes;
      this.current.insert(position + done, data.subarray(done, done + n));
      this.shared?.take(this.current.bytes - before);
      done += n;
      if (this.current.bytes >= this.opts.flushThresholdBytes) this.startFlush();
    }
    this.armIdleFlush();
  }

  private idleTimer: NodeJS.Timeout | undefined;

  /** Sends buffered data after `idleFlushMs` without writes, so it does not sit in memory. */
  private armIdleFlush(): void {
    if (this.opts.idleFlushMs <= 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.startFlush(), this.opts.idleFlushMs);
    this.idleTimer.unref();
  }

  /**
   * Flushes everything buffered and waits until all of it is on every replica and committed
   * (close). With `durable` (fsync) every chunk of the file written so far is also on disk.
   */
  async flush(durable = false): Promise<void> {
    this.startFlush(durable);
    // Flights commit in order, so the last one ending means all have.
    await this.lastFlight;
    this.throwIfFailed();
    if (durable) {
      await this.chunkWriter.syncWritten();
      // Commits made before this fsync without `sync` (an idle flush, a close) are made durable.
      if (this.metaUnsynced) {
        this.metaUnsynced = false;
        await this.meta.syncMetadata();
      }
    }
  }

  /** Drops cached chunk allocations: after a truncate their versions are gone. */
  forgetAllocations(): void {
    this.chunkWriter.forgetAllocations();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private async reserve(n: number): Promise<void> {
    // The mount's limit first: flush what this file holds and wait for memory to come back.
    while (this.shared && !this.shared.fits(n)) {
      if (this.current.isEmpty && this.flights.length === 0) break; // nothing of ours to wait for: let others drain
      this.startFlush();
      await this.shared.waitForRelease();
      this.throwIfFailed();
    }
    while (this.pendingBytes + n > this.opts.budgetBytes) {
      if (this.flights.length === 0) {
        // Nothing in flight to wait for: flush what is buffered, or go ahead if that is nothing.
        if (this.current.isEmpty) return;
        this.startFlush();
        continue;
      }
      await this.released.wait();
      this.throwIfFailed();
    }
  }

  /** Sends the current buffer; `sync` asks the replicas to fdatasync what it writes. */
  private startFlush(sync = false): void {
    clearTimeout(this.idleTimer);
    if (this.current.isEmpty) return;
    const buffer = this.current;
    this.current = new WriteBuffer(this.opts.chunkSize);
    // Counted as taken: a flight moving a file to chunks adds its inline bytes to the buffer.
    const taken = buffer.bytes;
    this.inflightBytes += taken;
    const flight: Flight = { buffer, done: Promise.resolve() };
    flight.done = this.runFlight(buffer, this.lastFlight, sync)
      .catch((e: unknown) => {
        const err = toFsError(e, (u) => this.log.error('unexpected error while flushing', { ino: this.ino, err: u }));
        this.log.warn('flush failed', { ino: this.ino, code: err.code, err });
        this.failure ??= err;
      })
      .finally(() => {
        this.flights.splice(this.flights.indexOf(flight), 1);
        this.inflightBytes -= taken;
        this.shared?.give(taken);
        this.released.notify();
      });
    this.flights.push(flight);
    this.lastFlight = flight.done;
  }

  private async runFlight(buffer: WriteBuffer, previous: Promise<void>, sync: boolean): Promise<void> {
    if (!this.inline.isChunked) {
      // Whether this flight writes inline, or moves the file to chunks, depends on the content the
      // flights before it committed: decided once they have.
      await previous;
      this.throwIfFailed();
      if (this.inline.mayKeep(buffer)) {
        const written = await this.inline.write(buffer, sync);
        if (written) {
          this.metaUnsynced = !sync;
          this.onCommit(written.attr, written.content);
          return;
        }
      }
      await this.inline.moveToChunks(buffer);
    }
    const jobs = buffer.chunkJobs().map((job) =>
      // After a failure nothing more is sent: the handle is already reporting lost data.
      this.failure ? Promise.reject(this.failure) : this.chunkWriter.submit(job, sync));
    const results = await Promise.allSettled(jobs);
    await previous;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // An earlier flight failed: publishing a size past its lost bytes would expose a hole as data.
    this.throwIfFailed();
    // The master stamps mtime with its own nanosecond clock: one clock for every client.
    const attr = await this.meta.commitWrite(this.ino, buffer.end, undefined, { sync });
    this.metaUnsynced = !sync;
    this.inline.movedToChunks();
    this.onCommit(attr);
  }
}
