/**
 * Pipelined chain replication (MooseFS, GFS): a replica that receives a WriteChunk with a non-empty
 * chain opens its own WriteChunk to chain[0], passing the rest of the chain, and forwards every
 * message as it arrives, before writing it locally, so that all replicas write in parallel. The
 * downstream's answer arrives only once every later replica has its data on disk. What it sends is
 * marked `forwarded`: the next replica is a secondary, which needs no lease.
 */
import type { ClientWritableStream } from '@grpc/grpc-js';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { RpcClientPool } from '../../common/rpc/client.js';
import { ChunkserverMethods } from '../../common/rpc/services.js';
import type { fst } from '../../proto-gen/fst.js';
import { waitDrain } from '../rpc/stream-flow.js';

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

export class ChainForward {
  readonly next: string;
  private readonly call: ClientWritableStream<fst.IWriteChunkRequest>;
  private readonly response: Promise<fst.WriteChunkResponse>;
  /** Rejects as soon as the downstream fails; never resolves. */
  private readonly failed: Promise<never>;
  private failure: FsError | undefined;
  private headerSent = false;
  private readonly ac = new AbortController();

  constructor(pool: RpcClientPool, private readonly header: ChainHeader, opts: { timeoutMs: number; signal: AbortSignal }) {
    const next = header.chain[0];
    if (next === undefined) throw new FsError('EINVAL', 'empty replication chain');
    this.next = next;
    const { call, response } = pool.get(next).clientStream(ChunkserverMethods.WriteChunk, {
      timeoutMs: opts.timeoutMs,
      signal: AbortSignal.any([opts.signal, this.ac.signal]),
    });
    this.call = call;
    this.response = response.catch((e: unknown) => {
      throw (this.failure ??= this.describe(e));
    });
    this.failed = this.response.then(() => new Promise<never>(() => undefined));
    this.failed.catch(() => undefined);
    // Errors also arrive through the response; the event must merely not go unhandled.
    call.on('error', () => undefined);
  }

  private describe(e: unknown): FsError {
    const err = toFsError(e);
    return err.message.includes(this.next) ? err : new FsError(err.code, `replica ${this.next}: ${err.message}`, { cause: e });
  }

  /** Sends one message downstream, waiting while the downstream is slower than we are. */
  async send(offset: number, data: Uint8Array, signal: AbortSignal): Promise<void> {
    if (this.failure) throw this.failure;
    const msg: fst.IWriteChunkRequest = { offset, data };
    if (!this.headerSent) {
      const { chunkId, version, chain, create, sync, token } = this.header;
      msg.header = { chunkId, version, chain: chain.slice(1), create, sync, forwarded: true, token };
      this.headerSent = true;
    }
    if (!this.call.write(msg)) await waitDrain(this.call, signal, this.failed);
    if (this.failure) throw this.failure;
  }

  /** Ends the stream and waits for the downstream's answer (every later replica synced). */
  async finish(): Promise<fst.WriteChunkResponse> {
    if (!this.headerSent) await this.send(0, new Uint8Array(0), this.ac.signal);
    this.call.end();
    return this.response;
  }

  /** Cancels the downstream call (the local write failed or the caller went away). */
  abort(): void {
    this.ac.abort(new FsError('ECANCELED', 'upstream write failed'));
  }
}
