/**
 * WriteRange through real in-process chunkservers: pieces of one write in flight at once down a
 * chain, the last committing; concurrent writers' overlapping pieces (and a WriteChunk stream among
 * them) applied in one order on every replica; the primary's lease needed for data but not for a
 * commit alone; malformed pieces refused. The client side is ChunkClient.writeStream, as mounts use.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkClient } from '../../src/client/chunk-client.js';
import type { ChunkLocation } from '../../src/client/types.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { encodeWriteRangeParts } from '../../src/common/rpc/write-range-encoder.js';
import { fst } from '../../src/proto-gen/fst.js';
import {
  Cleanup, MiB, checksums, clientFor, createChunk, expectErrno, pattern, readChunk, startTestServer,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

function chunkClient(): ChunkClient {
  const c = new ChunkClient({ timeoutMs: 20_000, retryForMs: 0 });
  cleanup.add(() => c.close());
  return c;
}

const location = (chunkId: number, version: number, addresses: string[]): ChunkLocation => ({
  index: 0, chunkId, version, replicas: addresses.map((address, serverId) => ({ serverId, address })),
});

describe('WriteRange', () => {
  it('encodes its data as the caller\'s own buffer, decoding to the same message', () => {
    const data = pattern(300_000, 3);
    const req = { header: { chunkId: 7, version: 2, chain: ['127.0.0.1:9'], sync: true, token: Buffer.from([1, 2]) }, offset: 4096, data, commit: true };
    const parts = encodeWriteRangeParts(req);
    expect(parts).toHaveLength(2);
    expect(parts[1]!.buffer).toBe(data.buffer);
    const decoded = fst.WriteRangeRequest.decode(Buffer.concat(parts));
    expect(Buffer.from(decoded.data).equals(data)).toBe(true);
    expect(decoded.offset).toBe(4096);
    expect(decoded.commit).toBe(true);
    expect(decoded.header?.chain).toEqual(['127.0.0.1:9']);
    // No data: one buffer, still a whole message.
    const empty = encodeWriteRangeParts({ header: req.header, offset: 0, commit: true });
    expect(empty).toHaveLength(1);
    expect(fst.WriteRangeRequest.decode(empty[0]!).data.length).toBe(0);
  });

  it('writes a chunk down a chain of three with many pieces in flight, every replica identical and committed', async () => {
    const servers = await Promise.all([0, 1, 2].map(() => startTestServer(cleanup)));
    const rpcs = servers.map((s) => clientFor(cleanup, s.address));
    await createChunk(rpcs[0]!, 30, 1);
    await Promise.all(rpcs.slice(1).map((c) => createChunk(c, 30, 1, 0)));
    const data = pattern(20 * MiB + 12_345, 30);
    const res = await chunkClient().writeStream(location(30, 1, servers.map((s) => s.address)), [
      { offset: 0, data: data.subarray(0, 9 * MiB) },
      { offset: 9 * MiB, data: data.subarray(9 * MiB) },
    ], { sync: true });
    expect(res).toEqual({ bytesWritten: data.length, length: data.length });
    const sums = await Promise.all(rpcs.map((c) => checksums(c, 30)));
    for (const s of sums) expect(s).toEqual(sums[0]);
    expect(sums[0]!.length).toBe(data.length);
    for (const c of rpcs) expect((await readChunk(c, 30, 1, 0, data.length)).equals(data)).toBe(true);
    // An empty write is a commit alone (an fsync of what earlier writes left unsynced).
    expect(await chunkClient().writeStream(location(30, 1, servers.map((s) => s.address)), [], { sync: true })).toEqual({ bytesWritten: 0, length: data.length });
  });

  it('applies concurrent writers\' overlapping pieces, and a stream among them, in one order on every replica', async () => {
    const [head, tail] = await Promise.all([0, 1].map(() => startTestServer(cleanup)));
    const h = clientFor(cleanup, head!.address);
    const t = clientFor(cleanup, tail!.address);
    const writers = [chunkClient(), chunkClient(), chunkClient()];
    for (let round = 0; round < 6; round++) {
      const chunkId = 40 + round;
      await createChunk(h, chunkId, 1);
      await createChunk(t, chunkId, 1, 0);
      const loc = location(chunkId, 1, [head!.address, tail!.address]);
      // Three writers of the same 4 MiB, each in 64 KiB pieces at shifted offsets, all in flight at
      // once over their own connections; one more writer's stream over the same range.
      const pieces = (w: number): { offset: number; data: Buffer }[] => {
        const data = pattern(4 * MiB, 100 * round + w);
        const out: { offset: number; data: Buffer }[] = [];
        for (let at = 0; at < data.length; at += 64 * 1024) out.push({ offset: at + w * 4096, data: data.subarray(at, at + 64 * 1024) });
        return out;
      };
      const stream = h.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 20_000 });
      const streamData = pattern(2 * MiB, 900 + round);
      stream.call.write({ header: { chunkId, version: 1, chain: [tail!.address] }, offset: MiB, data: streamData.subarray(0, MiB) });
      const writes = writers.map((c, w) => c.writeStream(loc, pieces(w)));
      stream.call.write({ offset: 2 * MiB, data: streamData.subarray(MiB) });
      stream.call.end();
      await Promise.all([...writes, stream.response]);
      const [sh, st] = await Promise.all([checksums(h, chunkId), checksums(t, chunkId)]);
      expect(st, `round ${round}`).toEqual(sh);
      const length = 4 * MiB + 2 * 4096;
      expect((await readChunk(t, chunkId, 1, 0, length)).equals(await readChunk(h, chunkId, 1, 0, length))).toBe(true);
    }
  });

  it('needs the primary\'s lease for data, not for a commit alone, and refuses malformed pieces', async () => {
    const [head, tail] = await Promise.all([0, 1].map(() => startTestServer(cleanup)));
    const h = clientFor(cleanup, head!.address);
    const t = clientFor(cleanup, tail!.address);
    await createChunk(h, 50, 1);
    await createChunk(t, 50, 1, 0);
    const header = { chunkId: 50, version: 1, chain: [tail!.address] };
    await h.unary(ChunkserverMethods.WriteRange, { header, offset: 0, data: pattern(1000, 50), commit: true });
    // The tail holds no lease: a client's data is refused there, its commit alone is not.
    await expectErrno(t.unary(ChunkserverMethods.WriteRange, { header: { chunkId: 50, version: 1 }, offset: 0, data: pattern(10) }), 'ESTALE');
    const committed = await t.unary(ChunkserverMethods.WriteRange, { header: { chunkId: 50, version: 1, sync: true }, offset: 0, commit: true });
    expect(Number(committed.length)).toBe(1000);
    // A stale version, a missing header, a piece over 1 MiB, a range past the chunk.
    await expectErrno(h.unary(ChunkserverMethods.WriteRange, { header: { chunkId: 50, version: 2 }, offset: 0, data: pattern(10) }), 'ESTALE');
    await expectErrno(h.unary(ChunkserverMethods.WriteRange, { offset: 0, data: pattern(10) }), 'EINVAL');
    await expectErrno(h.unary(ChunkserverMethods.WriteRange, { header, offset: 0, data: pattern(MiB + 1) }), 'EINVAL');
    await expectErrno(h.unary(ChunkserverMethods.WriteRange, { header, offset: 64 * MiB - 5, data: pattern(10) }), 'EINVAL');
    // Nothing of them landed, on either replica.
    for (const c of [h, t]) expect((await readChunk(c, 50, 1, 0, 1000)).equals(pattern(1000, 50))).toBe(true);
    expect((await checksums(t, 50)).length).toBe(1000);
  });
});
