/**
 * Requests a chunkserver must survive: garbage on the wire, invalid arguments, concurrent writers
 * of one chunk, and callers that go away mid-stream.
 */
import { Client, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { waitFor } from '../helpers/probes.js';
import {
  Cleanup, MiB, checksums, clientFor, createChunk, expectErrno, pattern, readChunk, startTestServer, writeChunk,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const identity = (b: Buffer): Buffer => b;

describe('robustness', () => {
  it('answers raw garbage with an error status and keeps serving', async () => {
    const cs = await startTestServer(cleanup);
    const raw = new Client(cs.address, credentials.createInsecure());
    cleanup.add(() => raw.close());
    const garbage = [Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Buffer.from('\x0a\xff\xff\xff\x0fxyz'), Buffer.alloc(0)];
    for (const bytes of garbage) {
      const status = await new Promise<ServiceError | undefined>((resolve) => {
        const call = raw.makeServerStreamRequest('/fst.ChunkserverService/ReadChunk', identity, identity, bytes, new Metadata(),
          { deadline: Date.now() + 10_000 });
        call.on('data', () => undefined);
        call.on('error', (e: ServiceError) => resolve(e));
        call.on('end', () => resolve(undefined));
      });
      expect(status, `garbage ${bytes.toString('hex')}`).toBeDefined();
      expect(status!.code).not.toBe(4); // an answer, not a deadline
    }
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 31);
    expect((await readChunk(c, 31, 1, 0, 10)).equals(Buffer.alloc(10))).toBe(true);
  });

  it('rejects invalid arguments with EINVAL', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 32);
    await expectErrno(createChunk(c, 0), 'EINVAL');
    await expectErrno(readChunk(c, 0, 1, 0, 1), 'EINVAL');
    await expectErrno(readChunk(c, 32, 1, CHUNK_SIZE - 10, 11), 'EINVAL');
    await expectErrno(readChunk(c, 32, 1, CHUNK_SIZE + 1, 0), 'EINVAL');
    await expectErrno(writeChunk(c, { chunkId: 32, version: 1 }, [{ offset: CHUNK_SIZE - 5, data: Buffer.alloc(6) }]), 'EINVAL');
    await expectErrno(writeChunk(c, { chunkId: 32, version: 1, chain: ['not an address'] }, [{ offset: 0, data: Buffer.alloc(6) }]), 'EINVAL');
    await expectErrno(writeChunk(c, { chunkId: 32, version: 1, chain: [cs.address] }, [{ offset: 0, data: Buffer.alloc(6) }]), 'EINVAL');
    await expectErrno(c.unary(ChunkserverMethods.CopyChunk, { chunkId: 32, version: 1, source: '' }), 'EINVAL');
    // A stream without a header, and one with a message over 1 MiB.
    const { call, response } = c.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 10_000 });
    call.write({ offset: 0, data: Buffer.alloc(10) });
    call.end();
    await expectErrno(response, 'EINVAL');
    await expectErrno(writeChunk(c, { chunkId: 32, version: 1 }, []).then(() => {
      const big = c.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 10_000 });
      big.call.write({ header: { chunkId: 32, version: 1 }, offset: 0, data: Buffer.alloc(MiB + 1) });
      big.call.end();
      return big.response;
    }), 'EINVAL');
    expect((await checksums(c, 32)).length).toBe(0);
  });

  it('serializes concurrent writers of one chunk without corrupting checksums', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 33);
    // Overlapping unaligned writes from 8 streams at once.
    const writes = Array.from({ length: 8 }, (_, i) => ({ offset: i * 100_003, data: pattern(300_000, 40 + i) }));
    await Promise.all(writes.map((w) => writeChunk(c, { chunkId: 33, version: 1 }, [w])));
    const got = await readChunk(c, 33, 1, 0, 7 * 100_003 + 300_000);
    // Every byte comes from one of the writers that covered it.
    for (let at = 0; at < got.length; at += 4_099) {
      const candidates = writes.filter((w) => at >= w.offset && at < w.offset + w.data.length).map((w) => w.data[at - w.offset]);
      expect(candidates).toContain(got[at]);
    }
  });

  it('survives a writer that goes away mid-stream', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 34);
    const ac = new AbortController();
    const { call, response } = c.clientStream(ChunkserverMethods.WriteChunk, { signal: ac.signal, timeoutMs: 10_000 });
    call.write({ header: { chunkId: 34, version: 1 }, offset: 0, data: pattern(MiB) });
    // The server is in the middle of the stream: its first message is written.
    await waitFor('the first message written', async () => (await checksums(c, 34)).length === MiB);
    ac.abort();
    await expectErrno(response, 'EINTR');
    await writeChunk(c, { chunkId: 34, version: 1 }, [{ offset: 0, data: pattern(1000, 3) }]);
    expect((await readChunk(c, 34, 1, 0, 1000)).equals(pattern(1000, 3))).toBe(true);
  });
});
