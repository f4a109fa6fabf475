/**
 * CopyChunk (re-replication): pull a whole chunk from a peer with GetChunkChecksums (its version,
 * length and owner record) and ReadChunk, write it to temporary files, check that the copy's block
 * checksums equal the source's, then install it over any older local copy. Blocks of zeros are not
 * written, so a sparse chunk stays sparse. The copy records the source's owner record (or, from a
 * source that has none, the one of the copy it replaces here).
 */
import { FsError } from '../../common/errors/errno.js';
import type { RpcClientPool } from '../../common/rpc/client.js';
import { ChunkserverMethods } from '../../common/rpc/services.js';
import { BLOCK_SIZE, isZeroBlock } from '../store/checksum.js';
import type { ChunkStore } from '../store/chunk-store.js';
import type { IoTotals } from '../io-totals.js';
import type { PendingCopy } from '../store/pending-copy.js';
import { ownerOf, peerUint64 } from '../rpc/validate.js';

export interface CopyRequest {
  chunkId: number;
  version: number;
  source: string;
}

/** Deadline of the whole transfer: 64 MiB even over a slow link. */
const COPY_TIMEOUT_MS = 10 * 60_000;

/** Writes the non-zero blocks of one received message. */
async function writeNonZero(copy: PendingCopy, offset: number, data: Uint8Array): Promise<void> {
  let runStart = -1;
  for (let at = 0; at <= data.length; ) {
    // Cut at block boundaries of the chunk, whatever the message's alignment.
    const next = Math.min(data.length, at + BLOCK_SIZE - ((offset + at) % BLOCK_SIZE));
    const zero = at === data.length || isZeroBlock(data.subarray(at, next));
    if (!zero && runStart < 0) runStart = at;
    if (zero && runStart >= 0) {
      await copy.write(offset + runStart, data.subarray(runStart, at));
      runStart = -1;
    }
    if (at === data.length) break;
    at = next;
  }
}

/** Copies the chunk from `req.source`; `io` counts the bytes that arrive. Resolves with its length. */
export async function copyChunk(
  store: ChunkStore, pool: RpcClientPool, req: CopyRequest, signal: AbortSignal, io: IoTotals,
): Promise<number> {
  const { chunkId, version, source } = req;
  const client = pool.get(source);
  const opts = { signal, timeoutMs: COPY_TIMEOUT_MS };
  const res = await client.unary(ChunkserverMethods.GetChunkChecksums, { chunkId }, { signal, timeoutMs: 30_000 });
  const sums = { version: peerUint64(res.version, 'version'), length: peerUint64(res.length, 'length'), crc32c: res.crc32c };
  if (sums.version !== version) {
    throw new FsError('ESTALE', `source ${source} holds chunk ${chunkId} at version ${sums.version}, not ${version}`);
  }
  const owner = ownerOf(res.owner, true) ?? await store.owner(chunkId).catch(() => undefined);
  const copy = await store.beginCopy(chunkId, version, owner);
  try {
    let pos = 0;
    const stream = client.serverStream(ChunkserverMethods.ReadChunk, { chunkId, version, offset: 0, length: sums.length }, opts);
    for await (const msg of stream) {
      const offset = peerUint64(msg.offset, 'offset');
      if (offset !== pos || pos + msg.data.length > sums.length) {
        throw new FsError('EIO', `source ${source} sent bytes ${offset}+${msg.data.length} of chunk ${chunkId}, expected offset ${pos}`);
      }
      await writeNonZero(copy, offset, msg.data);
      pos += msg.data.length;
      io.bytesCopiedIn += msg.data.length;
    }
    if (pos !== sums.length) throw new FsError('EIO', `source ${source} sent ${pos} of ${sums.length} bytes of chunk ${chunkId}`);
    await copy.setLength(sums.length);
    const mine = copy.file.checksums();
    const bad = mine.findIndex((crc, b) => crc !== sums.crc32c[b]);
    if (bad >= 0 || mine.length !== sums.crc32c.length) {
      throw new FsError('EIO', `copy of chunk ${chunkId} from ${source} does not match the source's checksums (block ${bad})`);
    }
    return await store.install(copy);
  } catch (e) {
    await copy.abort();
    throw e;
  }
}
