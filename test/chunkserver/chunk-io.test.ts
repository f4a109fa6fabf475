/**
 * Chunk I/O through the real ChunkserverService of an in-process chunkserver: round trips with
 * unaligned offsets, holes, versions, truncation, checksum failures, ENOSPC and restarts.
 */
import { existsSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { UUID_FILE } from '../../src/chunkserver/identity.js';
import {
  Cleanup, MiB, checksums, clientFor, setVersion, createChunk, expectErrno, grantLease, pattern, readChunk, startTestServer, tempDir,
  writeChunk,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('chunk I/O', () => {
  it('round-trips data across many blocks with unaligned offsets', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 7, 3);
    const a = pattern(3 * MiB + 12_345, 1);
    const b = pattern(200_000, 2);
    const res = await writeChunk(c, { chunkId: 7, version: 3 }, [{ offset: 1_000, data: a }, { offset: 70_000, data: b }]);
    expect(res.bytesWritten).toBe(a.length + b.length);
    expect(res.length).toBe(1_000 + a.length);
    const expected = Buffer.alloc(1_000 + a.length);
    a.copy(expected, 1_000);
    b.copy(expected, 70_000);
    expect((await readChunk(c, 7, 3, 0, expected.length)).equals(expected)).toBe(true);
    // Unaligned sub-ranges, including one crossing the end of the data.
    for (const [off, len] of [[1, 1], [65_535, 2], [123_457, 1_500_000], [expected.length - 10, 5_000]] as const) {
      const want = Buffer.alloc(len);
      expected.copy(want, 0, off, off + len);
      expect((await readChunk(c, 7, 3, off, len)).equals(want)).toBe(true);
    }
    const sums = await checksums(c, 7);
    expect(sums).toMatchObject({ version: 3, length: expected.length, blockSize: 65_536 });
    expect(sums.crc32c.length).toBe(Math.ceil(expected.length / 65_536));
  });

  it('reads holes and the space past the end as zeros', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 8);
    const data = pattern(5_000, 3);
    await writeChunk(c, { chunkId: 8, version: 1 }, [{ offset: 10 * MiB + 3, data }]);
    const got = await readChunk(c, 8, 1, 10 * MiB - 100_000, 200_000);
    expect(got.subarray(0, 100_003).every((x) => x === 0)).toBe(true);
    expect(got.subarray(100_003, 105_003).equals(data)).toBe(true);
    expect(got.subarray(105_003).every((x) => x === 0)).toBe(true);
    const tail = await readChunk(c, 8, 1, CHUNK_SIZE - 1_000, 1_000);
    expect(tail.every((x) => x === 0)).toBe(true);
  });

  it('refuses another version with ESTALE and unknown chunks with ENOENT', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 9, 5);
    const stale = await expectErrno(readChunk(c, 9, 4, 0, 10), 'ESTALE');
    // The errno travels in the trailer (FAILED_PRECONDITION alone would read as EIO).
    expect((stale.cause as ServiceError).metadata.get('fst-errno')).toEqual(['ESTALE']);
    await expectErrno(writeChunk(c, { chunkId: 9, version: 6 }, [{ offset: 0, data: Buffer.from('x') }]), 'ESTALE');
    await expectErrno(c.unary(ChunkserverMethods.SetChunkVersion, { chunkId: 9, version: 4, newVersion: 6 }), 'ESTALE');
    await expectErrno(readChunk(c, 10, 1, 0, 10), 'ENOENT');
    // create is idempotent at the same version, EEXIST at another.
    await createChunk(c, 9, 5);
    await expectErrno(createChunk(c, 9, 6), 'EEXIST');
    await c.unary(ChunkserverMethods.SetChunkVersion, { chunkId: 9, version: 5, newVersion: 6 });
    expect((await readChunk(c, 9, 6, 0, 3)).equals(Buffer.alloc(3))).toBe(true);
    await c.unary(ChunkserverMethods.DeleteChunk, { chunkId: 9 });
    await c.unary(ChunkserverMethods.DeleteChunk, { chunkId: 9 });
    await expectErrno(readChunk(c, 9, 6, 0, 3), 'ENOENT');
  });

  it('creates a chunk on a forwarded write only when the header says create, and keeps unsynced writes across a restart', async () => {
    const dataDir = join(await tempDir(cleanup), 'd0');
    const cs = await startTestServer(cleanup, { dataDirs: [dataDir] });
    const c = clientFor(cleanup, cs.address);
    const data = pattern(200_000, 4);
    // A secondary (forwarded stream) creates a new chunk on `create`; a client stream needs a lease.
    await expectErrno(writeChunk(c, { chunkId: 21, version: 1, forwarded: true }, [{ offset: 0, data }]), 'ENOENT');
    await expectErrno(writeChunk(c, { chunkId: 21, version: 1, create: true }, [{ offset: 0, data }]), 'ESTALE');
    await writeChunk(c, { chunkId: 21, version: 1, create: true, forwarded: true }, [{ offset: 0, data }]);
    // Created: a second `create` at the same version writes on, at another version it is stale.
    await writeChunk(c, { chunkId: 21, version: 1, create: true, forwarded: true }, [{ offset: 200_000, data }]);
    await expectErrno(writeChunk(c, { chunkId: 21, version: 2, create: true, forwarded: true }, [{ offset: 0, data }]), 'ESTALE');
    // An empty stream that asks for sync is accepted and changes nothing.
    await grantLease(c, 21, 1);
    expect(await writeChunk(c, { chunkId: 21, version: 1, sync: true }, [])).toEqual({ bytesWritten: 0, length: 400_000 });
    // Neither stream above but the last asked for sync; the meta record was written all the same.
    await writeChunk(c, { chunkId: 21, version: 1 }, [{ offset: 5, data: Buffer.from('unsynced') }]);
    await cs.stop();
    const again = await startTestServer(cleanup, { dataDirs: [dataDir] });
    const c2 = clientFor(cleanup, again.address);
    const want = Buffer.concat([data, data]);
    want.write('unsynced', 5);
    expect((await readChunk(c2, 21, 1, 0, want.length)).equals(want)).toBe(true);
  });

  it('truncates and extends through SetChunkVersion', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 11);
    const data = pattern(300_000, 4);
    await writeChunk(c, { chunkId: 11, version: 1 }, [{ offset: 0, data }]);
    expect(await setVersion(c, { chunkId: 11, version: 1, newVersion: 2, truncate: true, truncateLength: 100_001 })).toBe(100_001);
    expect(await setVersion(c, { chunkId: 11, version: 2, newVersion: 3, truncate: true, truncateLength: 250_000 })).toBe(250_000);
    expect((await checksums(c, 11)).length).toBe(250_000);
    const got = await readChunk(c, 11, 3, 0, 300_000);
    expect(got.subarray(0, 100_001).equals(data.subarray(0, 100_001))).toBe(true);
    expect(got.subarray(100_001).every((x) => x === 0)).toBe(true);
    await expectErrno(c.unary(ChunkserverMethods.SetChunkVersion,
      { chunkId: 11, version: 3, newVersion: 4, truncate: true, truncateLength: CHUNK_SIZE + 1 }), 'EINVAL');
  });

  it('fails a partial write into a corrupted block with EIO and drops the copy', async () => {
    const dir = join(await tempDir(cleanup), 'd0');
    const cs = await startTestServer(cleanup, { dataDirs: [dir] });
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 12);
    await writeChunk(c, { chunkId: 12, version: 1 }, [{ offset: 0, data: pattern(4 * 65_536, 5) }]);
    const fh = await open(chunkPaths(dir, 12).data, 'r+');
    const one = Buffer.alloc(1);
    await fh.read(one, 0, 1, 2 * 65_536 + 17);
    one[0] = (one[0] ?? 0) ^ 0x40;
    await fh.write(one, 0, 1, 2 * 65_536 + 17);
    await fh.close();
    // Other blocks still read: the bad block is found by the write that must merge into it.
    expect((await readChunk(c, 12, 1, 0, 65_536)).equals(pattern(4 * 65_536, 5).subarray(0, 65_536))).toBe(true);
    const err = await expectErrno(writeChunk(c, { chunkId: 12, version: 1 }, [{ offset: 2 * 65_536 + 5, data: Buffer.from('y') }]), 'EIO');
    expect(err.message).toMatch(/chunk 12 block 2/);
    // The copy is quarantined (corrupt.test.ts has the details): it is gone from this server.
    await expectErrno(readChunk(c, 12, 1, 0, 10), 'ENOENT');
    expect(existsSync(chunkPaths(dir, 12).data + '.corrupt')).toBe(true);
  });

  it('fails writes past the free-space reserve with ENOSPC and keeps the chunk intact', async () => {
    const dir = join(await tempDir(cleanup), 'd0');
    const first = await startTestServer(cleanup, { dataDirs: [dir] });
    const c1 = clientFor(cleanup, first.address);
    await createChunk(c1, 13);
    const data = pattern(100_000, 6);
    await writeChunk(c1, { chunkId: 13, version: 1 }, [{ offset: 0, data }]);
    await first.stop();
    // A reserve larger than any disk: the disk is "full".
    const cs = await startTestServer(cleanup, { dataDirs: [dir], reserveBytes: Number.MAX_SAFE_INTEGER });
    const c = clientFor(cleanup, cs.address);
    // Leases do not survive a restart: this one is granted again.
    await grantLease(c, 13, 1);
    await expectErrno(writeChunk(c, { chunkId: 13, version: 1 }, [{ offset: 50_000, data: pattern(MiB, 7) }]), 'ENOSPC');
    await expectErrno(createChunk(c, 14), 'ENOSPC');
    expect((await readChunk(c, 13, 1, 0, data.length)).equals(data)).toBe(true);
  });

  it('keeps chunks and uuid across a restart, ignoring junk and skipping corrupt chunks', async () => {
    const root = await tempDir(cleanup);
    const dirs = [join(root, 'd0'), join(root, 'd1')];
    const first = await startTestServer(cleanup, { dataDirs: dirs });
    const c1 = clientFor(cleanup, first.address);
    const contents = new Map<number, Buffer>();
    for (let id = 100; id < 110; id++) {
      await createChunk(c1, id, id);
      contents.set(id, pattern(70_000 + id, id));
      await writeChunk(c1, { chunkId: id, version: id }, [{ offset: 0, data: contents.get(id)! }]);
    }
    const uuid = first.uuid;
    await first.stop();
    // Junk beside the chunks, and a data file whose meta file is garbage.
    const owner = (id: number): string => dirs.find((d) => existsSync(chunkPaths(d, id).data)) ?? '';
    await writeFile(join(chunkPaths(owner(100), 100).subdir, 'README'), 'not a chunk');
    await writeFile(join(owner(100), 'chunks', 'zz'), 'not a subdirectory');
    await writeFile(chunkPaths(owner(109), 109).meta, 'garbage');
    const cs = await startTestServer(cleanup, { dataDirs: dirs });
    expect(cs.uuid).toBe(uuid);
    expect((await readFile(join(dirs[0]!, UUID_FILE), 'utf8')).trim()).toBe(uuid);
    const c = clientFor(cleanup, cs.address);
    for (let id = 100; id < 109; id++) {
      const want = contents.get(id)!;
      expect((await readChunk(c, id, id, 0, want.length)).equals(want)).toBe(true);
    }
    await expectErrno(readChunk(c, 109, 109, 0, 1), 'ENOENT');
  });

  it('stops through Symbol.asyncDispose and reports why in closed()', async () => {
    const cs = await startTestServer(cleanup);
    expect(cs.state).toBe('running');
    await cs[Symbol.asyncDispose]();
    expect(cs.state).toBe('stopped');
    expect(await cs.closed()).toMatchObject({ kind: 'stopped' });
    await cs.stop(); // idempotent
  });
});
