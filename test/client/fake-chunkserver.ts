/**
 * An in-memory ChunkserverService for client tests: chunks are Buffers, versions are checked as a
 * real chunkserver does (ESTALE on mismatch), writes are forwarded down the chain over real gRPC,
 * and faults can be injected. Only what the client uses is implemented.
 */
import type { Server, ServerWritableStream } from '@grpc/grpc-js';
import { FsError, type ErrnoName } from '../../src/common/errors/errno.js';
import { fsErrorToStatus } from '../../src/common/errors/rpc-status.js';
import { toFsError } from '../../src/common/errors/to-errno.js';
import { RpcClientPool } from '../../src/common/rpc/client.js';
import { addService, bindRpcServer, createRpcServer } from '../../src/common/rpc/server.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { DATA_MESSAGE_BYTES } from '../../src/common/ids.js';
import { silentLogger } from '../../src/common/log/logger.js';
import type { fst } from '../../src/proto-gen/fst.js';
import { wireNumber as n64 } from '../../src/client/types.js';

interface StoredChunk {
  version: number;
  data: Buffer;
  length: number;
}

export class FakeChunkserver {
  readonly chunks = new Map<number, StoredChunk>();
  address = '';
  /** Errors to fail the next WriteChunk calls with (consumed one per call). */
  readonly writeFaults: ErrnoName[] = [];
  /** Errors to fail the next ReadChunk calls with. */
  readonly readFaults: ErrnoName[] = [];
  writeCalls = 0;
  readCalls = 0;
  private server: Server | undefined;
  private readonly peers = new RpcClientPool({ retryForMs: 0 });

  async start(): Promise<this> {
    const server = createRpcServer();
    addService(server, ChunkserverMethods, {
      WriteChunk: (call) => this.writeChunk(call),
      ReadChunk: (req, call) => this.readChunk(req, call),
      CopyChunk: async () => { throw new FsError('ENOSYS', 'not in the fake'); },
      DeleteChunk: async (req) => { this.chunks.delete(n64(req.chunkId)); return {}; },
      GetChunkChecksums: async () => { throw new FsError('ENOSYS', 'not in the fake'); },
      SetChunkVersion: async () => { throw new FsError('ENOSYS', 'not in the fake'); },
    }, silentLogger);
    const port = await bindRpcServer(server, '127.0.0.1:0');
    this.server = server;
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  /** What the master does through SetChunkVersion: create, move to a new version, cut. */
  setVersion(chunkId: number, version: number, truncateTo?: number): void {
    const c = this.chunks.get(chunkId) ?? { version, data: Buffer.alloc(0), length: 0 };
    c.version = version;
    if (truncateTo !== undefined && truncateTo < c.length) {
      c.data.fill(0, truncateTo, c.length);
      c.length = truncateTo;
    }
    this.chunks.set(chunkId, c);
  }

  private chunk(chunkId: number, version: number): StoredChunk {
    const c = this.chunks.get(chunkId);
    if (!c) throw new FsError('ENOENT', `chunk ${chunkId} not here`);
    if (c.version !== version) throw new FsError('ESTALE', `chunk ${chunkId} has version ${c.version}, not ${version}`);
    return c;
  }

  private async writeChunk(call: AsyncIterable<fst.WriteChunkRequest>): Promise<fst.IWriteChunkResponse> {
    this.writeCalls++;
    const fault = this.writeFaults.shift();
    let chunk: StoredChunk | undefined;
    let downstream: { call: { write(m: fst.IWriteChunkRequest): boolean; end(): void }; response: Promise<unknown> } | undefined;
    let written = 0;
    for await (const msg of call) {
      if (msg.header) {
        if (fault) throw new FsError(fault, 'injected write fault');
        chunk = this.chunk(n64(msg.header.chunkId), n64(msg.header.version));
        const [nextAddr, ...rest] = msg.header.chain ?? [];
        if (nextAddr) {
          const next = this.peers.get(nextAddr).clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 60_000 });
          downstream = next;
          next.response.catch(() => {});
          next.call.write({ header: { chunkId: msg.header.chunkId, version: msg.header.version, chain: rest } });
        }
      }
      if (!chunk) throw new FsError('EINVAL', 'first message without a header');
      const data = Buffer.from(msg.data);
      if (data.length > DATA_MESSAGE_BYTES) throw new FsError('EINVAL', 'message too large');
      const end = n64(msg.offset) + data.length;
      if (end > chunk.data.length) {
        const grown = Buffer.alloc(Math.max(end, chunk.data.length * 2));
        chunk.data.copy(grown, 0, 0, chunk.length);
        chunk.data = grown;
      }
      data.copy(chunk.data, n64(msg.offset));
      chunk.length = Math.max(chunk.length, end);
      written += data.length;
      if (data.length > 0) downstream?.call.write({ offset: n64(msg.offset), data });
    }
    if (downstream) {
      downstream.call.end();
      await downstream.response;
    }
    return { bytesWritten: written, length: chunk?.length ?? 0 };
  }

  /**
   * Failures end the stream through its 'error' event, as the real chunkserver does: grpc-js sends
   * a server stream's status from there, while the destroy() of common/rpc/server.ts sends none.
   */
  private async readChunk(req: fst.ReadChunkRequest, call: ServerWritableStream<fst.ReadChunkRequest, fst.IReadChunkResponse>): Promise<void> {
    try {
      this.streamChunk(req, call);
    } catch (e) {
      const status = fsErrorToStatus(toFsError(e));
      call.emit('error', Object.assign(new Error(status.details), status));
    }
  }

  private streamChunk(req: fst.ReadChunkRequest, call: { write(m: fst.IReadChunkResponse): boolean }): void {
    this.readCalls++;
    const fault = this.readFaults.shift();
    if (fault) throw new FsError(fault, 'injected read fault');
    const c = this.chunk(n64(req.chunkId), n64(req.version));
    for (let o = 0; o < n64(req.length); o += DATA_MESSAGE_BYTES) {
      const n = Math.min(DATA_MESSAGE_BYTES, n64(req.length) - o);
      const data = Buffer.alloc(n);
      const from = n64(req.offset) + o;
      if (from < c.length) c.data.copy(data, 0, from, Math.min(c.length, from + n));
      call.write({ offset: from, data });
    }
  }

  async stop(): Promise<void> {
    this.peers.close();
    await new Promise<void>((resolve) => (this.server ? this.server.tryShutdown(() => resolve()) : resolve()));
  }
}
