/**
 * WriteRange: one piece of a write (at most 1 MiB) in a unary call, the way mounts and clients
 * write. The piece is sent down the chain (chain-forward.ts) and queued here in the same tick, so
 * every replica applies a chunk's writes in the primary's order; the answer comes once it is written
 * here and every later replica has answered. A writer has several pieces in flight at once: pieces
 * take no turn at the primary (WriteChunk streams do), and the replicas apply them in arrival order.
 *
 * `commit` (with the last piece, or alone with no data) persists the chunk's length and checksums
 * after everything this replica received before it (a chunkserver killed afterwards loses nothing),
 * and with `header.sync` fdatasyncs the chunk first, as a WriteChunk stream's end does.
 *
 * A piece with data from a client (not `forwarded`) needs the primary's unexpired lease at the
 * header's version when it arrives, before it is written and before the answer, else ESTALE; a
 * commit alone changes no bytes and needs none (fsync long after the writes must still work).
 */
import type { CallContext } from '../../common/rpc/server.js';
import type { fst } from '../../proto-gen/fst.js';
import { ChainForward } from '../replication/chain-forward.js';
import { DEFAULT_CHAIN_TIMEOUT_MS, headerOf, type WriteDeps } from './write-chunk.js';
import { dataOf } from './validate.js';

export async function writeRange(req: fst.WriteRangeRequest, ctx: CallContext, deps: WriteDeps): Promise<fst.IWriteChunkResponse> {
  const { store } = deps;
  const header = headerOf(req.header, deps.self());
  const { chunkId, version } = header;
  deps.access?.check(ctx, header.token, { chunkId, version, write: true });
  const { offset, data } = dataOf(req.offset, req.data);
  const commit = req.commit === true;
  const leaseCheck = header.forwarded || data.length === 0 ? undefined : (): void => store.leases.check(chunkId, version);
  leaseCheck?.();
  // Everything below up to the first await happens in this tick: the piece goes downstream and
  // into this chunk's queue (create, write, flush, in that order) before the next frame is read.
  const forward = header.chain.length > 0
    ? new ChainForward(deps.pool, header, { timeoutMs: DEFAULT_CHAIN_TIMEOUT_MS, signal: ctx.signal })
    : undefined;
  const downstream = forward?.piece(offset, data, commit);
  const steps: Array<Promise<number>> = [];
  if (header.create) steps.push(store.create(chunkId, version));
  if (data.length > 0) steps.push(store.write(chunkId, version, offset, data, leaseCheck));
  if (commit) steps.push(store.flush(chunkId, version, header.sync));
  if (steps.length === 0) steps.push(Promise.resolve(store.index.expect(chunkId, version).length));
  // Both settle before the answer: nothing is left in flight to cancel when one failed.
  const [local, down] = await Promise.allSettled([Promise.all(steps), downstream]);
  // The downstream's errno wins: it is the replica that failed, and its message says which.
  if (down.status === 'rejected') throw down.reason;
  if (local.status === 'rejected') throw local.reason;
  if (data.length > 0) {
    if (header.forwarded) deps.io.bytesWrittenByChain += data.length;
    else deps.io.bytesWrittenByClients += data.length;
    // A primary whose lease ran out meanwhile may already have been replaced: no acknowledgement.
    leaseCheck?.();
  }
  deps.io.writes++;
  return { bytesWritten: data.length, length: local.value[local.value.length - 1]! };
}
