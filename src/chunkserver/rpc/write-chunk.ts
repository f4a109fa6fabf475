/**
 * WriteChunk: a client stream of {offset, data} messages for one chunk, the first carrying the
 * header {chunk_id, version, chain, create, sync, forwarded}. Each message is sent down the chain
 * (when there is one) as a WriteRange piece in the same tick as it is queued here (chain-forward.ts),
 * and a commit follows the last; the call succeeds only when the local write is done and the
 * downstream replica has answered every piece and the commit, so an acknowledged write is on every
 * replica. Mounts and clients write with WriteRange (write-range.ts); this stream stays for callers
 * that want one call per session.
 *
 * A stream from a client (not `forwarded`) makes this server the chunk's primary (GFS): it needs an
 * unexpired lease on the chunk at the header's version (leases.ts) when the stream starts, before
 * each message is written and before the answer, else ESTALE (the client asks the master again).
 * The primary runs the client streams of one chunk one after another, from header to answer, so
 * that one stream's writes are not interleaved with another's; WriteRange pieces take no turn. Every
 * replica applies the writes in the primary's order whatever their source (chain-forward.ts).
 *
 * Without `sync` "done" means written to the operating system, checksums and length included (a
 * chunkserver killed afterwards loses nothing; a machine losing power may): that is what a client's
 * close(2) waits for, as close on a local filesystem does not wait for the disk. With `sync` the
 * chunk is fdatasync'ed first (fsync(2) of the file), including what earlier unsynced streams wrote.
 */
import type { ServerReadableStream } from '@grpc/grpc-js';
import { FsError } from '../../common/errors/errno.js';
import type { CallContext } from '../../common/rpc/server.js';
import type { RpcClientPool } from '../../common/rpc/client.js';
import type { fst } from '../../proto-gen/fst.js';
import { ChainForward, FORWARD_WINDOW_BYTES, FORWARD_WINDOW_PIECES, type ChainHeader } from '../replication/chain-forward.js';
import type { ChunkLocks } from '../store/chunk-locks.js';
import type { ChunkStore } from '../store/chunk-store.js';
import type { IoTotals } from '../io-totals.js';
import type { ChunkAccess } from './chunk-access.js';
import { messagesOf } from './stream-flow.js';
import { addressOf, chunkIdOf, dataOf, versionOf } from './validate.js';

export interface WriteDeps {
  store: ChunkStore;
  pool: RpcClientPool;
  /** This server's advertised address, to refuse a chain that loops back to it. */
  self: () => string;
  /** Turns of the client streams of each chunk at its primary. */
  primaryOrder: ChunkLocks;
  /** A stream silent this long fails (it may hold its chunk's turn). */
  idleMs?: number;
  /** Where written streams and bytes are counted. */
  io: IoTotals;
  /** Checks the master's write token; absent on an insecure chunkserver. */
  access?: ChunkAccess;
}

type WriteCall = ServerReadableStream<fst.WriteChunkRequest, fst.IWriteChunkResponse>;
type Messages = AsyncGenerator<fst.WriteChunkRequest>;

/** Deadline of the downstream call when the caller gave none. */
export const DEFAULT_CHAIN_TIMEOUT_MS = 5 * 60_000;

export function headerOf(h: fst.IWriteChunkHeader | null | undefined, self: string): ChainHeader {
  if (!h) throw new FsError('EINVAL', 'the first WriteChunk message must carry a header');
  const chain = (h.chain ?? []).map((a, i) => addressOf(a, `chain[${i}]`));
  if (chain.includes(self)) throw new FsError('EINVAL', `replication chain ${chain.join(',')} loops back to ${self}`);
  return {
    chunkId: chunkIdOf(h.chunkId), version: versionOf(h.version), chain,
    create: h.create === true, sync: h.sync === true, forwarded: h.forwarded === true, token: h.token ?? new Uint8Array(0),
  };
}

function remainingMs(call: ServerReadableStream<unknown, unknown>): number {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(at) ? Math.max(1, at - Date.now()) : DEFAULT_CHAIN_TIMEOUT_MS;
}

export async function writeChunk(call: WriteCall, ctx: CallContext, deps: WriteDeps): Promise<fst.IWriteChunkResponse> {
  const messages = messagesOf(call, ctx.signal, deps.idleMs);
  try {
    const first = await messages.next();
    if (first.done) throw new FsError('EINVAL', 'empty WriteChunk stream: no header');
    const header = headerOf(first.value.header, deps.self());
    deps.access?.check(ctx, header.token, { chunkId: header.chunkId, version: header.version, write: true });
    if (header.forwarded) return await applyStream(call, ctx, deps, header, first.value, messages);
    // Refused at once without a lease, rather than after waiting for the streams ahead. A stream
    // that carries no data (fsync's sync-only stream) changes no bytes and needs no lease: an fsync
    // long after the writes must still reach every replica's disk.
    if (first.value.data.length > 0) deps.store.leases.check(header.chunkId, header.version);
    return await deps.primaryOrder.run(header.chunkId, () => applyStream(call, ctx, deps, header, first.value, messages));
  } finally {
    await messages.return(undefined);
  }
}

/** Writes the stream's messages here and down the chain; `first` carries the header. */
async function applyStream(
  call: WriteCall, ctx: CallContext, deps: WriteDeps, header: ChainHeader, first: fst.WriteChunkRequest, rest: Messages,
): Promise<fst.IWriteChunkResponse> {
  const { store } = deps;
  const { chunkId, version } = header;
  const leaseCheck = header.forwarded ? undefined : (): void => store.leases.check(chunkId, version);
  let forward: ChainForward | undefined;
  /** Pieces sent downstream and not yet answered, oldest first, with their sizes. */
  const downstream: Array<{ answer: Promise<unknown>; bytes: number }> = [];
  let downstreamBytes = 0;
  let bytesWritten = 0;
  const { io } = deps;
  const apply = async (msg: fst.WriteChunkRequest): Promise<void> => {
    const { offset, data } = dataOf(msg.offset, msg.data);
    if (data.length === 0) return;
    leaseCheck?.();
    // Sent on and queued here in the same tick (chain-forward.ts: every replica's order is ours).
    if (forward) {
      downstream.push({ answer: forward.piece(offset, data, false), bytes: data.length });
      downstreamBytes += data.length;
    }
    await store.write(chunkId, version, offset, data, leaseCheck);
    bytesWritten += data.length;
    if (header.forwarded) io.bytesWrittenByChain += data.length;
    else io.bytesWrittenByClients += data.length;
    while (downstreamBytes > FORWARD_WINDOW_BYTES || downstream.length >= FORWARD_WINDOW_PIECES) {
      const oldest = downstream.shift()!;
      downstreamBytes -= oldest.bytes;
      await oldest.answer;
    }
  };
  try {
    // Refuse a stale or unknown chunk before involving the rest of the chain, except a new
    // chunk's first write, which creates it here while the next replica does the same.
    const creating = header.create && !store.index.get(chunkId);
    if (!creating) store.index.expect(chunkId, version);
    if (header.chain.length > 0) forward = new ChainForward(deps.pool, header, { timeoutMs: remainingMs(call), signal: ctx.signal });
    if (creating) {
      await store.create(chunkId, version);
      store.index.expect(chunkId, version);
    }
    await apply(first);
    for await (const msg of rest) {
      // A header repeated in later messages is tolerated as long as it names the same chunk.
      if (msg.header && (chunkIdOf(msg.header.chunkId) !== chunkId || versionOf(msg.header.version) !== version)) {
        throw new FsError('EINVAL', 'a WriteChunk stream writes one chunk: a later header names another');
      }
      await apply(msg);
    }
    for (const d of downstream) await d.answer;
    // The commit goes down after every piece was answered; the local flush is queued after ours.
    const [local, down] = await Promise.allSettled([store.flush(chunkId, version, header.sync), forward?.piece(0, EMPTY, true)]);
    // The downstream's errno wins: it is the replica that failed, and its message says which.
    if (down.status === 'rejected') throw down.reason;
    if (local.status === 'rejected') throw local.reason;
    // A primary whose lease ran out meanwhile may already have been replaced: no acknowledgement.
    if (bytesWritten > 0) leaseCheck?.();
    io.writes++;
    return { bytesWritten, length: local.value };
  } catch (e) {
    forward?.abort();
    throw e;
  }
}

const EMPTY = new Uint8Array(0);
