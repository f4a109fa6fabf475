/**
 * Test helpers: in-process chunkservers on 127.0.0.1:0 with temporary data directories, a client
 * for the ChunkserverService, and a cleanup list that afterEach runs even when a test fails.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FsError, type ErrnoName } from '../../src/common/errors/errno.js';
import { silentLogger } from '../../src/common/log/logger.js';
import { RpcClient, type RpcClientOptions } from '../../src/common/rpc/client.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { uint64 } from '../../src/chunkserver/rpc/validate.js';
import { closedPort } from '../helpers/probes.js';
import { startChunkserver, type Chunkserver, type ChunkserverOptions } from '../../src/chunkserver/chunkserver.js';
import { Cleanup } from '../helpers/cleanup.js';

export { Cleanup };

export const MiB = 1024 * 1024;

export async function tempDir(cleanup: Cleanup, prefix = 'fst-cs-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function startTestServer(
  cleanup: Cleanup,
  opts: Partial<ChunkserverOptions> & { dataDirs?: string[] } = {},
): Promise<Chunkserver> {
  const dataDirs = opts.dataDirs ?? [join(await tempDir(cleanup), 'd0')];
  const cs = await startChunkserver({
    master: `127.0.0.1:${await closedPort()}`,
    listen: '127.0.0.1:0',
    logger: silentLogger,
    shutdownGraceMs: 1_000,
    ...opts,
    dataDirs,
  });
  cleanup.add(() => cs.stop());
  return cs;
}

/** A client of the chunkserver at `address`; `tls` for one started with a credential. */
export function clientFor(cleanup: Cleanup, address: string, tls?: RpcClientOptions['tls']): RpcClient {
  const c = new RpcClient(address, { timeoutMs: 20_000, retryForMs: 0, tls });
  cleanup.add(() => c.close());
  return c;
}

/** Deterministic bytes that differ from block to block. */
export function pattern(length: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** A lease long enough for any test: the server is the chunk's primary until the test ends. */
export const LONG_LEASE_MS = 10 * 60_000;

/** Creates a chunk (SetChunkVersion create), with the primary's lease unless leaseMs is 0. */
export async function createChunk(c: RpcClient, chunkId: number, version = 1, leaseMs = LONG_LEASE_MS): Promise<void> {
  await c.unary(ChunkserverMethods.SetChunkVersion, { chunkId, newVersion: version, create: true, leaseMs });
}

/** Grants (or extends) the lease on a chunk stored at `version`: SetChunkVersion version -> version. */
export async function grantLease(c: RpcClient, chunkId: number, version: number, leaseMs = LONG_LEASE_MS): Promise<void> {
  await c.unary(ChunkserverMethods.SetChunkVersion, { chunkId, version, newVersion: version, leaseMs });
}

export interface WriteMsg {
  offset: number;
  data: Uint8Array;
}

/** One WriteChunk call; payloads are cut into messages of at most 1 MiB. */
export async function writeChunk(
  c: RpcClient,
  header: { chunkId: number; version: number; chain?: string[]; create?: boolean; sync?: boolean; forwarded?: boolean },
  writes: WriteMsg[],
): Promise<{ bytesWritten: number; length: number }> {
  const { call, response } = c.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 30_000 });
  response.catch(() => undefined);
  let first = true;
  for (const w of writes) {
    for (let at = 0; at < w.data.length || (first && at === 0); at += MiB) {
      const msg = { offset: w.offset + at, data: w.data.subarray(at, at + MiB), header: first ? header : undefined };
      first = false;
      if (!call.write(msg)) await new Promise((r) => call.once('drain', r));
      if (w.data.length === 0) break;
    }
  }
  if (first) call.write({ header, offset: 0, data: new Uint8Array(0) });
  call.end();
  const res = await response;
  return { bytesWritten: uint64(res.bytesWritten), length: uint64(res.length) };
}

/** GetChunkChecksums with its uint64 fields as plain numbers (uint64() also takes a Long). */
export async function checksums(c: RpcClient, chunkId: number): Promise<{ version: number; length: number; blockSize: number; crc32c: number[] }> {
  const r = await c.unary(ChunkserverMethods.GetChunkChecksums, { chunkId });
  return { version: uint64(r.version), length: uint64(r.length), blockSize: r.blockSize, crc32c: r.crc32c };
}

/** SetChunkVersion, returning the length. */
export async function setVersion(
  c: RpcClient,
  req: { chunkId: number; version?: number; newVersion: number; create?: boolean; truncate?: boolean; truncateLength?: number; leaseMs?: number },
): Promise<number> {
  return uint64((await c.unary(ChunkserverMethods.SetChunkVersion, req)).length);
}

export async function readChunk(c: RpcClient, chunkId: number, version: number, offset: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  let got = 0;
  for await (const msg of c.serverStream(ChunkserverMethods.ReadChunk, { chunkId, version, offset, length }, { timeoutMs: 30_000 })) {
    expect(uint64(msg.offset)).toBe(offset + got);
    expect(msg.data.length).toBeLessThanOrEqual(MiB);
    out.set(msg.data, got);
    got += msg.data.length;
  }
  expect(got).toBe(length);
  return out;
}

/** Asserts that `p` fails with FsError `code` (the errno from the trailer). */
export async function expectErrno(p: Promise<unknown>, code: ErrnoName): Promise<FsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(FsError);
  expect((err as FsError).code).toBe(code);
  return err as FsError;
}
