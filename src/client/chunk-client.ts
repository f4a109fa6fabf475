/**
 * ChunkClient: reads and writes chunk data on the chunkservers, one pooled RPC client per address.
 * A read tries the replicas in the master's order and resumes on the next one where the last
 * stopped; a write goes to the head of the chain, which forwards it down (MooseFS-style), and
 * succeeds only once every replica holds the data (on disk too, when the write asks for sync).
 */
import { setMaxListeners } from 'node:events';
import { FsError } from '../common/errors/errno.js';
import { toErrno, toFsError } from '../common/errors/to-errno.js';
import { RpcClientPool, type RpcClientOptions } from '../common/rpc/client.js';
import { ChunkserverMethods } from '../common/rpc/services.js';
import { DATA_MESSAGE_BYTES } from '../common/ids.js';
import { silentLogger, type Logger } from '../common/log/logger.js';
import type { fst } from '../proto-gen/fst.js';
import { wireNumber, type ChunkLocation } from './types.js';

export interface ChunkClientOptions extends RpcClientOptions {
  /** Deadline of one ReadRange call (at most 1 MiB). @default 60000 */
  readTimeoutMs?: number;
  /** Deadline of one WriteRange call, replication included. @default 120000 */
  writeTimeoutMs?: number;
  logger?: Logger;
}

/** Bytes to write at `offset` within a chunk. */
export interface WritePiece {
  offset: number;
  data: Buffer;
}

export interface WriteOptions {
  /** Answer only once every replica has fdatasync'ed the chunk. */
  sync?: boolean;
  signal?: AbortSignal;
}

export interface WriteResult {
  bytesWritten: number;
  /** The chunk's length on the head replica after the write. */
  length: number;
}

/** Bytes of a write's pieces a writer has unanswered at once (8 calls of 1 MiB)... */
export const WRITE_WINDOW_BYTES = 8 * 1024 * 1024;
/** ...and calls (small pieces of a scattered write). */
const WRITE_WINDOW_PIECES = 16;

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class ChunkClient {
  readonly pool: RpcClientPool;
  private readonly readTimeoutMs: number;
  private readonly writeTimeoutMs: number;
  private readonly log: Logger;

  constructor(options: ChunkClientOptions = {}) {
    this.pool = new RpcClientPool(options);
    this.readTimeoutMs = options.readTimeoutMs ?? 60_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 120_000;
    this.log = options.logger ?? silentLogger;
  }

  /**
   * `length` bytes of the chunk from `offset` (bytes the chunkserver does not store read as zeros),
   * in ReadRange calls of at most 1 MiB made at once, each trying the replicas in turn; when every
   * replica fails a piece the error is ESTALE if any replica had another version (the caller should
   * locate again). One unary call per MiB on the framed transport costs less than a ReadChunk
   * stream: a cold sequential read through a mount went from about 315 to 410 MB/s, with a quarter
   * less of the mount's CPU, when its 4 MiB blocks became 1 MiB ReadRange calls.
   */
  async readRange(loc: ChunkLocation, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    if (length <= 0) return Buffer.alloc(0);
    if (loc.replicas.length === 0) throw new FsError('EIO', `chunk ${loc.chunkId}: no live replica to read from`);
    if (length <= DATA_MESSAGE_BYTES) return this.readPiece(loc, offset, length, signal);
    const out = Buffer.allocUnsafe(length);
    const pieces: Array<Promise<void>> = [];
    for (let at = 0; at < length; at += DATA_MESSAGE_BYTES) {
      const n = Math.min(DATA_MESSAGE_BYTES, length - at);
      pieces.push(this.readPiece(loc, offset + at, n, signal).then((data) => { data.copy(out, at); }));
    }
    await Promise.all(pieces);
    return out;
  }

  /** At most 1 MiB from the first replica that answers. */
  private async readPiece(loc: ChunkLocation, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    const errors: unknown[] = [];
    for (const replica of loc.replicas) {
      try {
        return await this.readOnce(replica.address, loc, offset, length, signal);
      } catch (e) {
        if (signal?.aborted) throw toFsError(e);
        errors.push(e);
        this.log.debug('read from replica failed', { chunkId: loc.chunkId, replica: replica.address, err: e });
      }
    }
    const stale = errors.find((e) => toErrno(e) === 'ESTALE');
    throw toFsError(stale ?? errors[errors.length - 1]);
  }

  /**
   * One ReadRange call to one replica. No retry on the same replica: the caller moves on to the
   * next.
   */
  private async readOnce(address: string, loc: ChunkLocation, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    const res = await this.pool.get(address).unary(
      ChunkserverMethods.ReadRange,
      { chunkId: loc.chunkId, version: loc.version, offset, length, token: loc.token },
      { timeoutMs: this.readTimeoutMs, signal, retryForMs: 0 },
    );
    const data = asBuffer(res.data);
    if (data.length > length) throw new FsError('EIO', `chunk ${loc.chunkId} at ${address}: ${data.length} bytes for a range of ${length}`);
    if (data.length === length) return data;
    // A server stops at the chunk's stored length: the rest is a hole.
    const whole = Buffer.allocUnsafe(length);
    data.copy(whole);
    whole.fill(0, data.length);
    return whole;
  }

  /**
   * Writes `pieces` (offsets within the chunk) through the replication chain of `loc`, as WriteRange
   * calls of at most 1 MiB that view the caller's buffers (no copy), up to WRITE_WINDOW_BYTES in
   * flight, the last one committing (write-range.ts on the chunkserver). Resolves once every replica
   * has written the data and recorded the chunk's length and checksums, and with `sync` once every
   * replica has the chunk on disk (no pieces: just that). The first failure cancels the rest and is
   * what the caller gets. One unary call per MiB on the framed transport costs less than a WriteChunk
   * stream, whose every message grpc-js copies twice and cuts into 16 KiB HTTP/2 frames on each hop.
   */
  async writeStream(loc: ChunkLocation, pieces: Iterable<WritePiece>, opts: WriteOptions = {}): Promise<WriteResult> {
    const head = loc.replicas[0];
    if (!head) throw new FsError('EIO', `chunk ${loc.chunkId}: the master gave no replica to write to`);
    const client = this.pool.get(head.address);
    const header: fst.IWriteChunkHeader = {
      chunkId: loc.chunkId,
      version: loc.version,
      chain: loc.replicas.slice(1).map((r) => r.address),
      sync: opts.sync === true,
      token: loc.token,
    };
    const slices: WritePiece[] = [];
    for (const piece of pieces) {
      for (let o = 0; o < piece.data.length; o += DATA_MESSAGE_BYTES) {
        slices.push({ offset: piece.offset + o, data: piece.data.subarray(o, Math.min(piece.data.length, o + DATA_MESSAGE_BYTES)) });
      }
    }
    if (slices.length === 0) slices.push({ offset: 0, data: Buffer.alloc(0) });
    const cancel = new AbortController();
    const signal = opts.signal ? AbortSignal.any([opts.signal, cancel.signal]) : cancel.signal;
    // Every call in flight listens to it.
    setMaxListeners(WRITE_WINDOW_PIECES + 1, signal);
    const callOptions = {
      timeoutMs: this.writeTimeoutMs,
      signal,
      // No retry: a piece sent again could land after a later one.
      retryForMs: 0,
    };
    let failure: { error: unknown } | undefined;
    const inFlight: Array<{ answer: Promise<fst.WriteChunkResponse | undefined>; bytes: number }> = [];
    let inFlightBytes = 0;
    let bytesWritten = 0;
    let length = 0;
    for (let i = 0; i < slices.length && !failure; i++) {
      const { offset, data } = slices[i]!;
      const commit = i === slices.length - 1;
      const answer = client.unary(ChunkserverMethods.WriteRange, { header, offset, data, commit }, callOptions).then(
        (res) => {
          bytesWritten += wireNumber(res.bytesWritten);
          if (commit) length = wireNumber(res.length);
          return res;
        },
        (e: unknown) => {
          if (!failure) {
            failure = { error: e };
            cancel.abort();
          }
          return undefined;
        },
      );
      inFlight.push({ answer, bytes: data.length });
      inFlightBytes += data.length;
      while ((inFlightBytes > WRITE_WINDOW_BYTES || inFlight.length >= WRITE_WINDOW_PIECES) && !failure) {
        const oldest = inFlight.shift()!;
        inFlightBytes -= oldest.bytes;
        await oldest.answer;
      }
    }
    await Promise.all(inFlight.map((f) => f.answer));
    if (failure) throw toFsError(failure.error);
    return { bytesWritten, length };
  }

  close(): void {
    this.pool.close();
  }
}

