/**
 * Primary leases: the Leases table on its own (a fake clock), then through real in-process
 * chunkservers: client streams need a lease at their version, forwarded ones do not, leases expire,
 * are extended without touching the disk, end with a version move, a delete or a restart, and the
 * primary orders concurrent client streams so that every replica ends up identical.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { FsError } from '../../src/common/errors/errno.js';
import { Leases } from '../../src/chunkserver/store/leases.js';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { waitFor } from '../helpers/probes.js';
import {
  Cleanup, MiB, checksums, clientFor, createChunk, expectErrno, grantLease, pattern, readChunk, setVersion, startTestServer, tempDir,
  writeChunk,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const one = (data: Buffer, offset = 0): { offset: number; data: Buffer }[] => [{ offset, data }];

/** A lease short enough to wait out; the test servers run in this process, on this clock. */
const SHORT_LEASE_MS = 200;

/**
 * Grants a short lease and resolves once it has run out: a lease counts from the grant's arrival
 * (performance.now() on the server), which comes before the answer.
 */
async function leaseRunOut(c: ReturnType<typeof clientFor>, chunkId: number, version: number): Promise<void> {
  await grantLease(c, chunkId, version, SHORT_LEASE_MS);
  const answered = performance.now();
  await waitFor('the lease to run out', () => performance.now() - answered > SHORT_LEASE_MS, 10_000, 20);
}

describe('Leases', () => {
  it('holds a lease at one version until it expires, and says why it refuses', () => {
    let now = 1_000;
    const leases = new Leases(() => now);
    expect(() => leases.check(5, 1)).toThrow(/chunk 5: no lease at version 1 here/);
    leases.grant(5, 2, 100);
    expect(() => leases.check(5, 2)).not.toThrow();
    expect(() => leases.check(5, 1)).toThrow(/lease held at version 2/);
    now += 99;
    expect(() => leases.check(5, 2)).not.toThrow();
    now += 1;
    const err = (() => {
      try {
        leases.check(5, 2);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).code).toBe('ESTALE');
    expect((err as FsError).message).toMatch(/chunk 5: lease at version 2 expired 0 ms ago/);
    // Counted from the grant's arrival, not from when it was applied.
    leases.grant(5, 2, 100, now - 60);
    now += 39;
    expect(() => leases.check(5, 2)).not.toThrow();
    now += 1;
    expect(() => leases.check(5, 2)).toThrow(/expired/);
    leases.grant(6, 3, 1_000);
    leases.endUnlessAt(6, 3);
    expect(() => leases.check(6, 3)).not.toThrow();
    leases.endUnlessAt(6, 4);
    expect(() => leases.check(6, 3)).toThrow(/no lease/);
    leases.grant(7, 1, 1_000);
    leases.end(7);
    expect(() => leases.check(7, 1)).toThrow(/no lease/);
  });

  it('sweeps expired leases so the table stays small', () => {
    let now = 0;
    const leases = new Leases(() => now);
    for (let id = 1; id <= 5_000; id++) {
      leases.grant(id, 1, 10);
      now += 1;
    }
    expect(leases.size).toBeLessThan(1_100);
  });
});

describe('leases on a chunkserver', () => {
  it('refuses a client stream without a lease and accepts it with one', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 1, 3, 0);
    const err = await expectErrno(writeChunk(c, { chunkId: 1, version: 3 }, one(pattern(1000))), 'ESTALE');
    expect(err.message).toMatch(/chunk 1: no lease at version 3 here/);
    // A stream without data (what fsync sends) changes nothing and needs none: an fsync after the
    // lease ended must still make the chunk durable. Its version is still checked.
    expect(await writeChunk(c, { chunkId: 1, version: 3, sync: true }, [])).toEqual({ bytesWritten: 0, length: 0 });
    await expectErrno(writeChunk(c, { chunkId: 1, version: 2, sync: true }, []), 'ESTALE');
    expect((await checksums(c, 1)).length).toBe(0);
    await grantLease(c, 1, 3);
    expect(await writeChunk(c, { chunkId: 1, version: 3 }, one(pattern(1000)))).toEqual({ bytesWritten: 1000, length: 1000 });
    expect((await readChunk(c, 1, 3, 0, 1000)).equals(pattern(1000))).toBe(true);
    // A lease is held at one version: a client stream at another is refused by the lease first.
    await expectErrno(writeChunk(c, { chunkId: 1, version: 4 }, one(pattern(10))), 'ESTALE');
  });

  it('lets a lease expire, also in the middle of a stream, and extends it without touching the disk', async () => {
    // Writes that must succeed run under long leases, so that a slow machine cannot outlast them;
    // a grant replaces the lease, and short ones are waited out before what must be refused.
    const dir = join(await tempDir(cleanup), 'd0');
    const cs = await startTestServer(cleanup, { dataDirs: [dir] });
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 2, 1);
    await writeChunk(c, { chunkId: 2, version: 1 }, one(pattern(100, 1)));
    await leaseRunOut(c, 2, 1);
    const err = await expectErrno(writeChunk(c, { chunkId: 2, version: 1 }, one(pattern(100, 2))), 'ESTALE');
    expect(err.message).toMatch(/chunk 2: lease at version 1 expired/);

    // Extending (version == new_version with lease_ms) writes nothing to the chunk's files: a short
    // lease, extended before it runs out by a long one, still holds once the short one is over.
    const meta = chunkPaths(dir, 2).meta;
    const before = { bytes: await readFile(meta), mtime: (await stat(meta)).mtimeMs };
    await grantLease(c, 2, 1, SHORT_LEASE_MS);
    const shortAnswered = performance.now();
    await grantLease(c, 2, 1);
    await waitFor('the short lease to be over', () => performance.now() - shortAnswered > SHORT_LEASE_MS, 10_000, 20);
    expect((await readFile(meta)).equals(before.bytes)).toBe(true);
    expect((await stat(meta)).mtimeMs).toBe(before.mtime);
    await writeChunk(c, { chunkId: 2, version: 1 }, one(pattern(100, 3)));

    // A lease that runs out while a stream is open stops it before the next message is written.
    await grantLease(c, 2, 1);
    const { call, response } = c.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 60_000 });
    response.catch(() => undefined);
    call.write({ header: { chunkId: 2, version: 1 }, offset: 0, data: pattern(100, 4) });
    await waitFor('the first message written', async () => (await readChunk(c, 2, 1, 0, 100)).equals(pattern(100, 4)));
    await leaseRunOut(c, 2, 1);
    call.write({ offset: 1_000, data: pattern(100, 5) });
    call.end();
    expect((await expectErrno(response, 'ESTALE')).message).toMatch(/expired/);
    const got = await readChunk(c, 2, 1, 0, 1_100);
    expect(got.subarray(0, 100).equals(pattern(100, 4))).toBe(true);
    expect(got.subarray(1_000).every((x) => x === 0)).toBe(true);
  });

  it('ends a lease when the version moves without lease_ms, on delete and on restart', async () => {
    const dir = join(await tempDir(cleanup), 'd0');
    const cs = await startTestServer(cleanup, { dataDirs: [dir] });
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 3, 1);
    await setVersion(c, { chunkId: 3, version: 1, newVersion: 2 });
    const moved = await expectErrno(writeChunk(c, { chunkId: 3, version: 2 }, one(pattern(10))), 'ESTALE');
    expect(moved.message).toMatch(/no lease at version 2/);
    await expectErrno(writeChunk(c, { chunkId: 3, version: 1 }, one(pattern(10))), 'ESTALE');
    // A move with lease_ms grants it at the new version.
    await setVersion(c, { chunkId: 3, version: 2, newVersion: 3, leaseMs: 60_000 });
    await writeChunk(c, { chunkId: 3, version: 3 }, one(pattern(10)));
    await expectErrno(writeChunk(c, { chunkId: 3, version: 2 }, one(pattern(10))), 'ESTALE');
    // Truncation at the same version keeps it.
    expect(await setVersion(c, { chunkId: 3, version: 3, newVersion: 3, truncate: true, truncateLength: 5 })).toBe(5);
    await writeChunk(c, { chunkId: 3, version: 3 }, one(pattern(10)));

    // A deleted chunk loses its lease: recreated at the same version, it has none.
    await c.unary(ChunkserverMethods.DeleteChunk, { chunkId: 3 });
    await createChunk(c, 3, 3, 0);
    await expectErrno(writeChunk(c, { chunkId: 3, version: 3 }, one(pattern(10))), 'ESTALE');

    // Leases live in memory only.
    await createChunk(c, 4, 1);
    await writeChunk(c, { chunkId: 4, version: 1 }, one(pattern(10)));
    await cs.stop();
    const again = await startTestServer(cleanup, { dataDirs: [dir] });
    const c2 = clientFor(cleanup, again.address);
    await expectErrno(writeChunk(c2, { chunkId: 4, version: 1 }, one(pattern(10))), 'ESTALE');
    await grantLease(c2, 4, 1);
    await writeChunk(c2, { chunkId: 4, version: 1 }, one(pattern(10)));
  });

  it('needs the lease on the head of a chain only', async () => {
    const [head, tail] = await Promise.all([0, 1].map(() => startTestServer(cleanup)));
    const h = clientFor(cleanup, head!.address);
    const t = clientFor(cleanup, tail!.address);
    await createChunk(h, 5, 2);
    await createChunk(t, 5, 2, 0);
    const data = pattern(2 * MiB + 17, 5);
    await writeChunk(h, { chunkId: 5, version: 2, chain: [tail!.address] }, one(data, 100));
    expect(await checksums(t, 5)).toEqual(await checksums(h, 5));
    expect((await readChunk(t, 5, 2, 100, data.length)).equals(data)).toBe(true);
    // The secondary refuses a client stream of its own.
    await expectErrno(writeChunk(t, { chunkId: 5, version: 2 }, one(pattern(10))), 'ESTALE');
    // A new chunk: the secondary creates it from the forwarded `create`, the primary had it from the master.
    await createChunk(h, 6, 1);
    await writeChunk(h, { chunkId: 6, version: 1, create: true, chain: [tail!.address] }, one(pattern(1000, 6)));
    expect((await readChunk(t, 6, 1, 0, 1000)).equals(pattern(1000, 6))).toBe(true);
  });

  it('orders concurrent client streams at the primary so that both replicas end up identical', async () => {
    const [head, tail] = await Promise.all([0, 1].map(() => startTestServer(cleanup)));
    const h = clientFor(cleanup, head!.address);
    const t = clientFor(cleanup, tail!.address);
    const h2 = clientFor(cleanup, head!.address);
    const piece = 64 * 1024;
    for (let round = 0; round < 4; round++) {
      const chunkId = 10 + round;
      await createChunk(h, chunkId, 1);
      await createChunk(t, chunkId, 1, 0);
      // Two writers of the same 1 MiB over two connections, their messages sent alternately with
      // pauses: without ordering at the primary, the chunk would end up a mix of both.
      const a = pattern(MiB, 100 + round);
      const b = pattern(MiB, 200 + round);
      const header = { chunkId, version: 1, chain: [tail!.address] };
      const streams = [h, h2].map((c) => c.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 20_000 }));
      for (const s of streams) s.response.catch(() => undefined);
      for (let at = 0; at < MiB; at += piece) {
        // Who sends a piece first alternates, so interleaved writes would leave pieces of both.
        const order = (at / piece) % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) {
          const data = (i === 0 ? a : b).subarray(at, at + piece);
          streams[i]!.call.write({ header: at === 0 ? header : undefined, offset: 1_000 + at, data });
          await sleep(3);
        }
      }
      for (const s of streams) s.call.end();
      await Promise.all(streams.map((s) => s.response));
      const [sh, st] = await Promise.all([checksums(h, chunkId), checksums(t, chunkId)]);
      expect(st, `round ${round}`).toEqual(sh);
      // One stream ran after the other: the result is all of one writer's bytes.
      const got = await readChunk(t, chunkId, 1, 1_000, a.length);
      expect(got.equals(a) || got.equals(b), `round ${round}: one writer's bytes`).toBe(true);
      expect((await readChunk(h, chunkId, 1, 1_000, a.length)).equals(got)).toBe(true);
    }
  });
});
