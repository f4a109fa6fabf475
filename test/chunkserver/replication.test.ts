/**
 * Replication between real in-process chunkservers: pipelined chain writes, a dead replica in the
 * chain, and CopyChunk from a peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import {
  Cleanup, MiB, checksums, clientFor, createChunk, expectErrno, pattern, readChunk, startTestServer, writeChunk,
} from './helpers.js';
import { closedPort } from '../helpers/probes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('replication', () => {
  it('writes through a chain of three replicas, leaving identical copies', async () => {
    const servers = await Promise.all([0, 1, 2].map(() => startTestServer(cleanup)));
    const clients = servers.map((s) => clientFor(cleanup, s.address));
    for (const c of clients) await createChunk(c, 21, 4);
    const big = pattern(5 * MiB + 777, 21);
    const small = pattern(3_000, 22);
    const [head, ...rest] = clients;
    const res = await writeChunk(head!, { chunkId: 21, version: 4, chain: servers.slice(1).map((s) => s.address) },
      [{ offset: 12_345, data: big }, { offset: 40 * MiB, data: small }]);
    expect(res).toEqual({ bytesWritten: big.length + small.length, length: 40 * MiB + small.length });
    const sums = await Promise.all(clients.map((c) => checksums(c, 21)));
    for (const s of sums) expect(s).toEqual(sums[0]);
    expect(sums[0]!.length).toBe(40 * MiB + small.length);
    const want = await readChunk(head!, 21, 4, 0, 6 * MiB);
    expect(want.subarray(12_345, 12_345 + big.length).equals(big)).toBe(true);
    for (const c of rest) {
      expect((await readChunk(c, 21, 4, 0, 6 * MiB)).equals(want)).toBe(true);
      expect((await readChunk(c, 21, 4, 40 * MiB, small.length)).equals(small)).toBe(true);
    }
  });

  it('fails the write when a replica in the chain is unreachable', async () => {
    const servers = await Promise.all([0, 1].map(() => startTestServer(cleanup)));
    const clients = servers.map((s) => clientFor(cleanup, s.address));
    for (const c of clients) await createChunk(c, 22);
    const dead = `127.0.0.1:${await closedPort()}`;
    const err = await expectErrno(
      writeChunk(clients[0]!, { chunkId: 22, version: 1, chain: [servers[1]!.address, dead] }, [{ offset: 0, data: pattern(3 * MiB) }]),
      'EIO',
    );
    expect(err.message).toContain(dead);
    // A stale downstream fails the call with the downstream's errno.
    await clients[1]!.unary(ChunkserverMethods.SetChunkVersion, { chunkId: 22, version: 1, newVersion: 2 });
    const stale = await expectErrno(
      writeChunk(clients[0]!, { chunkId: 22, version: 1, chain: [servers[1]!.address] }, [{ offset: 0, data: pattern(1000) }]),
      'ESTALE',
    );
    expect(stale.message).toContain(servers[1]!.address);
    // The head still serves.
    await writeChunk(clients[0]!, { chunkId: 22, version: 1 }, [{ offset: 0, data: pattern(1000) }]);
  });

  it('copies a chunk from a peer with CopyChunk, replacing an older local copy', async () => {
    const [src, dst] = await Promise.all([0, 1].map(() => startTestServer(cleanup)));
    const s = clientFor(cleanup, src!.address);
    const d = clientFor(cleanup, dst!.address);
    await createChunk(s, 23, 7);
    const data = pattern(2 * MiB + 5, 23);
    await writeChunk(s, { chunkId: 23, version: 7 }, [{ offset: 100, data }, { offset: 30 * MiB, data: data.subarray(0, 10) }]);
    // An older, different copy on the destination.
    await createChunk(d, 23, 3);
    await writeChunk(d, { chunkId: 23, version: 3 }, [{ offset: 0, data: pattern(50 * MiB / 16, 99) }]);
    const res = await d.unary(ChunkserverMethods.CopyChunk, { chunkId: 23, version: 7, source: src!.address });
    expect(Number(res.length)).toBe(30 * MiB + 10);
    expect(await checksums(d, 23)).toEqual(await checksums(s, 23));
    expect((await readChunk(d, 23, 7, 0, 3 * MiB)).equals(await readChunk(s, 23, 7, 0, 3 * MiB))).toBe(true);
    await expectErrno(d.unary(ChunkserverMethods.CopyChunk, { chunkId: 23, version: 8, source: src!.address }), 'ESTALE');
    await expectErrno(d.unary(ChunkserverMethods.CopyChunk, { chunkId: 24, version: 1, source: src!.address }), 'ENOENT');
    // The failed copies left the installed one alone.
    expect((await checksums(d, 23)).version).toBe(7);
  });
});
