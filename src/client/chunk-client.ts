/**
 * ChunkClient: reads and writes chunk data on the chunkservers, one pooled gRPC client per address.
 * A read tries the replicas in the master's order and resumes on the next one where the last
 * stopped; a write goes to the head of the chain, which forwards it down (MooseFS-style), and
 * succeeds only once every replica holds the data (on disk too, when the write asks for sync).
 */
import { once } from 'node:events';
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
  /** Deadline of one WriteChunk stream, replication included. @default 120000 */
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
   * Writes `pieces` (offsets within the chunk) through the replication chain of `loc`, in messages of
   * at most 1 MiB that view the caller's buffers (no copy), honouring the stream's backpressure.
   * Resolves once every replica has written the data, and with `sync` once every replica has the
   * chunk on disk (no pieces: just that).
   */
  async writeStream(loc: ChunkLocation, pieces: Iterable<WritePiece>, opts: WriteOptions = {}): Promise<WriteResult> {
    const { signal } = opts;
    const head = loc.replicas[0];
    if (!head) throw new FsError('EIO', `chunk ${loc.chunkId}: the master gave no replica to write to`);
    const { call, response } = this.pool.get(head.address).clientStream(
      ChunkserverMethods.WriteChunk, { timeoutMs: this.writeTimeoutMs, signal },
    );
    // Failures arrive through `response`; without this listener a write after the call died would
    // raise an unhandled 'error' event.
    call.on('error', () => {});
    let failed = false;
    const settled = response.then(() => {}, () => { failed = true; });
    const header: fst.IWriteChunkHeader = {
      chunkId: loc.chunkId,
      version: loc.version,
      chain: loc.replicas.slice(1).map((r) => r.address),
      sync: opts.sync === true,
      token: loc.token,
    };
    let first = true;
    outer: for (const piece of pieces) {
      for (let o = 0; o < piece.data.length; o += DATA_MESSAGE_BYTES) {
        if (failed) break outer;
        const msg: fst.IWriteChunkRequest = {
          offset: piece.offset + o,
          data: piece.data.subarray(o, Math.min(piece.data.length, o + DATA_MESSAGE_BYTES)),
        };
        if (first) msg.header = header;
        first = false;
        if (!call.write(msg)) await drainOrSettle(call, settled);
      }
    }
    if (first && !failed) call.write({ header });
    call.end();
    const res = await response;
    return { bytesWritten: wireNumber(res.bytesWritten), length: wireNumber(res.length) };
  }

  close(): void {
    this.pool.close();
  }
}

/** Waits for the stream to accept more, or for the call to end (a failed call never drains). */
async function drainOrSettle(call: NodeJS.EventEmitter, settled: Promise<void>): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([once(call, 'drain', { signal: ac.signal }).catch(() => {}), settled]);
  } finally {
    ac.abort();
  }
}
