/**
 * Pipelined chain replication (MooseFS, GFS): a replica that receives a write with a non-empty chain
 * sends each piece on to chain[0] as a WriteRange call (passing the rest of the chain, marked
 * `forwarded`: the next replica is a secondary, which needs no lease), in the same tick as it queues
 * the piece's local write, so that all replicas write in parallel. A replica queues what it
 * receives on one connection in the order it arrives, and sends it on in that order: every replica
 * of a chunk applies its writes in the primary's order, whichever writers and calls they came from.
 * The downstream's answer to a piece arrives once every later replica has written it.
 */
import { setMaxListeners } from 'node:events';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { RpcClient, RpcClientPool } from '../../common/rpc/client.js';
import { ChunkserverMethods } from '../../common/rpc/services.js';
import type { fst } from '../../proto-gen/fst.js';

export interface ChainHeader {
  chunkId: number;
  version: number;
  /** The replicas after this one; chain[0] is the next hop. */
  chain: string[];
  /** Create the chunk where it is missing (its first write). */
  create: boolean;
  /** fdatasync before answering. */
  sync: boolean;
  /** Came from the previous replica (this one is a secondary), not from a client. */
  forwarded: boolean;
  /** The master's write token, passed down the chain (each replica checks it). */
  token: Uint8Array;
}

/** Bytes of pieces a stream may have unanswered downstream before it waits for the oldest... */
export const FORWARD_WINDOW_BYTES = 8 * 1024 * 1024;
/** ...and pieces (a stream of small messages). */
export const FORWARD_WINDOW_PIECES = 16;

export class ChainForward {
  readonly next: string;
  private readonly client: RpcClient;
  private readonly header: fst.IWriteChunkHeader;
  private readonly signal: AbortSignal;
  private readonly ac = new AbortController();
  /** The first downstream failure: every later piece fails with it at once. */
  private failure: FsError | undefined;

  constructor(pool: RpcClientPool, header: ChainHeader, private readonly opts: { timeoutMs: number; signal: AbortSignal }) {
    const next = header.chain[0];
    if (next === undefined) throw new FsError('EINVAL', 'empty replication chain');
    this.next = next;
    this.client = pool.get(next);
    const { chunkId, version, chain, create, sync, token } = header;
    this.header = { chunkId, version, chain: chain.slice(1), create, sync, forwarded: true, token };
    this.signal = AbortSignal.any([opts.signal, this.ac.signal]);
    // Every piece in flight listens to it.
    setMaxListeners(FORWARD_WINDOW_PIECES + 2, this.signal);
  }

  private describe(e: unknown): FsError {
    const err = toFsError(e);
    return err.message.includes(this.next) ? err : new FsError(err.code, `replica ${this.next}: ${err.message}`, { cause: e });
  }

  /**
   * Sends one piece downstream now (the frame is written before this returns); resolves with the
   * downstream's answer. With `commit` the downstream also makes what it received durable.
   */
  piece(offset: number, data: Uint8Array, commit: boolean): Promise<fst.WriteChunkResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const p = this.client.unary(
      ChunkserverMethods.WriteRange,
      { header: this.header, offset, data, commit },
      // No retry: a piece sent again could land after a later one.
      { timeoutMs: this.opts.timeoutMs, signal: this.signal, retryForMs: 0 },
    ).catch((e: unknown) => {
      throw (this.failure ??= this.describe(e));
    });
    p.catch(() => undefined); // the caller may stop listening once one piece failed
    return p;
  }

  /** Cancels the pieces in flight downstream (the local write failed or the caller went away). */
  abort(): void {
    this.ac.abort(new FsError('ECANCELED', 'upstream write failed'));
  }
}
