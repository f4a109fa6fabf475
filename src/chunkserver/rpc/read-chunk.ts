/**
 * ReadChunk: streams a verified byte range in messages of at most 1 MiB, cut at 1 MiB boundaries
 * of the chunk so that every full message covers 16 whole checksum blocks. The next piece is read
 * from disk while the previous one is sent, and sending waits for the call to drain.
 * ReadRange: a range of at most 1 MiB in one unary answer (FST's framed transport: no stream).
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { CallContext } from '../../common/rpc/server.js';
import type { Logger } from '../../common/log/logger.js';
import { DATA_MESSAGE_BYTES } from '../../common/ids.js';
import type { fst } from '../../proto-gen/fst.js';
import type { ChunkStore } from '../store/chunk-store.js';
import type { IoTotals } from '../io-totals.js';
import { failServerStream, waitDrain } from './stream-flow.js';
import { FsError } from '../../common/errors/errno.js';
import { chunkIdOf, rangeOf, versionOf } from './validate.js';
import type { ChunkAccess } from './chunk-access.js';

type ReadCall = ServerWritableStream<fst.ReadChunkRequest, fst.IReadChunkResponse>;

/**
 * The handler: failures end the stream with their errno (see failServerStream), never a throw.
 * `io` counts the bytes handed to the stream, and the stream once it has sent the whole range.
 */
export async function readChunk(
  req: fst.ReadChunkRequest, call: ReadCall, ctx: CallContext, store: ChunkStore, log: Logger, io: IoTotals, access?: ChunkAccess,
): Promise<void> {
  try {
    access?.check(ctx, req.token, { chunkId: chunkIdOf(req.chunkId), version: versionOf(req.version), write: false });
    await streamRange(req, call, ctx, store, io);
  } catch (e) {
    failServerStream(call, e, log, 'ReadChunk');
  }
}

async function streamRange(req: fst.ReadChunkRequest, call: ReadCall, ctx: CallContext, store: ChunkStore, io: IoTotals): Promise<void> {
  const chunkId = chunkIdOf(req.chunkId);
  const version = versionOf(req.version);
  const { offset, length } = rangeOf(req.offset, req.length);
  store.index.expect(chunkId, version);
  const end = offset + length;
  const readPiece = (at: number): Promise<Buffer> => {
    const p = store.read(chunkId, version, at, Math.min(end - at, DATA_MESSAGE_BYTES - (at % DATA_MESSAGE_BYTES)));
    p.catch(() => undefined); // awaited below, unless the call fails first
    return p;
  };
  let pos = offset;
  let pending = pos < end ? readPiece(pos) : undefined;
  while (pending) {
    const data = await pending;
    const at = pos;
    pos += data.length;
    pending = pos < end ? readPiece(pos) : undefined;
    if (ctx.signal.aborted) return;
    io.bytesRead += data.length;
    if (!call.write({ offset: at, data })) await waitDrain(call, ctx.signal);
  }
  io.reads++;
}

/** The handler of ReadRange: the same checks as ReadChunk, the bytes in one answer. */
export async function readRange(
  req: fst.ReadChunkRequest, ctx: CallContext, store: ChunkStore, io: IoTotals, access?: ChunkAccess,
): Promise<fst.IReadRangeResponse> {
  const chunkId = chunkIdOf(req.chunkId);
  const version = versionOf(req.version);
  access?.check(ctx, req.token, { chunkId, version, write: false });
  const { offset, length } = rangeOf(req.offset, req.length);
  if (length > DATA_MESSAGE_BYTES) throw new FsError('EINVAL', `ReadRange of ${length} bytes: at most ${DATA_MESSAGE_BYTES} (ReadChunk streams more)`);
  // store.read checks the chunk and version itself, under the chunk's lock; an empty range reads nothing.
  if (length === 0) {
    store.index.expect(chunkId, version);
    io.reads++;
    return { data: Buffer.alloc(0) };
  }
  const data = await store.read(chunkId, version, offset, length);
  io.reads++;
  io.bytesRead += data.length;
  return { data };
}
