/**
 * WriteChunk: a client stream of {offset, data} messages for one chunk, the first carrying the
 * header {chunk_id, version, chain, create, sync}. Each message is forwarded down the chain (when
 * there is one) and then written locally; the call succeeds only when the local write is done and
 * the downstream replica has answered OK, so an acknowledged write is on every replica.
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
import { ChainForward, type ChainHeader } from '../replication/chain-forward.js';
import type { ChunkStore } from '../store/chunk-store.js';
import { messagesOf } from './stream-flow.js';
import { addressOf, chunkIdOf, dataOf, versionOf } from './validate.js';

export interface WriteDeps {
  store: ChunkStore;
  pool: RpcClientPool;
  /** This server's advertised address, to refuse a chain that loops back to it. */
  self: () => string;
}

/** Deadline of the downstream call when the caller gave none. */
const DEFAULT_CHAIN_TIMEOUT_MS = 5 * 60_000;

function headerOf(h: fst.IWriteChunkHeader | null | undefined, self: string): ChainHeader {
  if (!h) throw new FsError('EINVAL', 'the first WriteChunk message must carry a header');
  const chain = (h.chain ?? []).map((a, i) => addressOf(a, `chain[${i}]`));
  if (chain.includes(self)) throw new FsError('EINVAL', `replication chain ${chain.join(',')} loops back to ${self}`);
  return { chunkId: chunkIdOf(h.chunkId), version: versionOf(h.version), chain, create: h.create === true, sync: h.sync === true };
}

function remainingMs(call: ServerReadableStream<unknown, unknown>): number {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(at) ? Math.max(1, at - Date.now()) : DEFAULT_CHAIN_TIMEOUT_MS;
}

export async function writeChunk(
  call: ServerReadableStream<fst.WriteChunkRequest, fst.IWriteChunkResponse>,
  ctx: CallContext,
  deps: WriteDeps,
): Promise<fst.IWriteChunkResponse> {
  const { store } = deps;
  let header: ChainHeader | undefined;
  let forward: ChainForward | undefined;
  let bytesWritten = 0;
  try {
    for await (const msg of messagesOf(call, ctx.signal)) {
      if (!header) {
        header = headerOf(msg.header, deps.self());
        // Refuse a stale or unknown chunk before involving the rest of the chain, except a new
        // chunk's first write, which creates it here while the next replica does the same.
        const creating = header.create && !store.get(header.chunkId);
        if (!creating) store.expect(header.chunkId, header.version);
        if (header.chain.length > 0) {
          forward = new ChainForward(deps.pool, header, { timeoutMs: remainingMs(call), signal: ctx.signal });
        }
        if (creating) {
          await store.create(header.chunkId, header.version);
          store.expect(header.chunkId, header.version);
        }
      } else if (msg.header && (chunkIdOf(msg.header.chunkId) !== header.chunkId || versionOf(msg.header.version) !== header.version)) {
        // A header repeated in later messages is tolerated as long as it names the same chunk.
        throw new FsError('EINVAL', 'a WriteChunk stream writes one chunk: a later header names another');
      }
      const { offset, data } = dataOf(msg.offset, msg.data);
      await forward?.send(offset, data, ctx.signal);
      await store.write(header.chunkId, header.version, offset, data);
      bytesWritten += data.length;
    }
    if (!header) throw new FsError('EINVAL', 'empty WriteChunk stream: no header');
    const h = header;
    const done = h.sync ? store.sync(h.chunkId, h.version) : store.persist(h.chunkId, h.version);
    const [local, downstream] = await Promise.allSettled([done, forward?.finish()]);
    // The downstream's errno wins: it is the replica that failed, and its message says which.
    if (downstream.status === 'rejected') throw downstream.reason;
    if (local.status === 'rejected') throw local.reason;
    return { bytesWritten, length: local.value };
  } catch (e) {
    forward?.abort();
    throw e;
  }
}
