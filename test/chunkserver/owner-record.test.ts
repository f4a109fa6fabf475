/**
 * Chunk owner records (which file a chunk belongs to, for `fstadmin metadata rebuild`): the record
 * format, kept through writes, version moves, truncation and a restart; meta files without one
 * (written before owners existed) read as before; real chunkservers record the owner SetChunkVersion
 * brings, list it (ListChunks with_owners), and carry it over in CopyChunk.
 */
import { appendFile, open, stat, truncate } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { ChunkFile } from '../../src/chunkserver/store/chunk-file.js';
import { ChunkStore } from '../../src/chunkserver/store/chunk-store.js';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { META_FILE_BYTES, readOwner } from '../../src/chunkserver/store/meta-file.js';
import { decodeOwner, encodeOwner, MAX_OWNER_PATH_BYTES } from '../../src/chunkserver/store/owner-record.js';
import type { fst } from '../../src/proto-gen/fst.js';
import { Cleanup, MiB, clientFor, pattern, readChunk, startTestServer, tempDir, writeChunk } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const OWNER = { ino: 4242, index: 3, path: '/projects/été/report.pdf' };

describe('owner record format', () => {
  it('round-trips, and says why a damaged one is invalid', () => {
    const b = encodeOwner(OWNER);
    expect(decodeOwner(b)).toEqual(OWNER);
    expect(decodeOwner(Buffer.alloc(0))).toBeUndefined();
    const torn = Buffer.from(b);
    torn[30] = torn[30]! ^ 0xff;
    expect(decodeOwner(torn)).toBe('owner record checksum mismatch');
    expect(decodeOwner(b.subarray(0, 20))).toBe('short owner record');
    expect(decodeOwner(Buffer.alloc(64, 7))).toBe('bad owner record magic');
  });

  it('drops a path too long to keep, keeping the inode and index', () => {
    const long = '/' + 'x'.repeat(MAX_OWNER_PATH_BYTES + 1);
    expect(decodeOwner(encodeOwner({ ino: 9, index: 0, path: long }))).toEqual({ ino: 9, index: 0, path: '' });
  });
});

describe('owner record in the meta file', () => {
  it('is written with the first meta record and kept through writes, version moves, truncation and a restart', async () => {
    const dir = await tempDir(cleanup);
    const store = await ChunkStore.open({ dataDirs: [dir], reserveBytes: 0, log: silentLogger });
    await store.create(7, 1, {}, OWNER);
    await store.write(7, 1, 0, pattern(3 * 65536 + 5));
    await store.flush(7, 1, false);
    await store.setVersion(7, 1, 2);
    await store.setVersion(7, 2, 3, { truncateTo: 70_000 });
    await store.write(7, 3, 100, pattern(10));
    expect(await store.owner(7)).toEqual(OWNER);
    await store.close();
    const again = await ChunkStore.open({ dataDirs: [dir], reserveBytes: 0, log: silentLogger });
    cleanup.add(() => again.close());
    expect(again.index.get(7)).toMatchObject({ version: 3, length: 70_000 });
    expect(await again.owner(7)).toEqual(OWNER);
    expect(await again.owner(8)).toBeUndefined();
  });

  it('is absent from a chunk created without one, whose meta file is as before owners existed', async () => {
    const dir = await tempDir(cleanup);
    const paths = chunkPaths(dir, 11);
    const f = await ChunkFile.create(paths, 11, 1);
    await f.write(0, pattern(1000));
    await f.setVersion(2);
    await f.close();
    expect((await stat(paths.meta)).size).toBe(META_FILE_BYTES);
    const store = await ChunkStore.open({ dataDirs: [dir], reserveBytes: 0, log: silentLogger });
    cleanup.add(() => store.close());
    expect(await store.owner(11)).toBeUndefined();
    expect((await store.read(11, 2, 0, 1000)).equals(pattern(1000))).toBe(true);
  });

  it('counts as none when damaged, and never makes the chunk corrupt', async () => {
    const dir = await tempDir(cleanup);
    const paths = chunkPaths(dir, 12);
    const f = await ChunkFile.create(paths, 12, 1, OWNER);
    await f.write(0, pattern(500));
    await f.close();
    await truncate(paths.meta, META_FILE_BYTES + 10);
    await appendFile(paths.meta, Buffer.from('junk'));
    const fh = await open(paths.meta, 'r');
    expect(await readOwner(fh)).toBe('short owner record');
    await fh.close();
    const store = await ChunkStore.open({ dataDirs: [dir], reserveBytes: 0, log: silentLogger });
    cleanup.add(() => store.close());
    expect(await store.owner(12)).toBeUndefined();
    expect((await store.read(12, 1, 0, 500)).equals(pattern(500))).toBe(true);
  });
});

describe('owner records on chunkservers', () => {
  async function listed(c: ReturnType<typeof clientFor>, withOwners: boolean): Promise<fst.IListedChunk[]> {
    const out: fst.IListedChunk[] = [];
    for await (const page of c.serverStream(ChunkserverMethods.ListChunks, { withOwners })) out.push(...page.chunks);
    return out.sort((a, b) => Number(a.chunkId) - Number(b.chunkId));
  }

  it('records the owner SetChunkVersion creates a chunk with, lists it, and copies it with the chunk', async () => {
    const [src, dst] = await Promise.all([0, 1].map(() => startTestServer(cleanup)));
    const s = clientFor(cleanup, src!.address);
    const d = clientFor(cleanup, dst!.address);
    await s.unary(ChunkserverMethods.SetChunkVersion, { chunkId: 31, newVersion: 1, create: true, leaseMs: 60_000, owner: OWNER });
    await s.unary(ChunkserverMethods.SetChunkVersion, { chunkId: 32, newVersion: 1, create: true });
    const data = pattern(2 * MiB + 3, 31);
    await writeChunk(s, { chunkId: 31, version: 1 }, [{ offset: 0, data }]);
    const list = await listed(s, true);
    expect(list.map((c) => ({ id: Number(c.chunkId), owner: c.owner ? { ino: Number(c.owner.ino), index: Number(c.owner.index), path: c.owner.path } : null })))
      .toEqual([{ id: 31, owner: OWNER }, { id: 32, owner: null }]);
    expect((await listed(s, false)).every((c) => !c.owner)).toBe(true);

    await d.unary(ChunkserverMethods.CopyChunk, { chunkId: 31, version: 1, source: src!.address });
    await d.unary(ChunkserverMethods.CopyChunk, { chunkId: 32, version: 1, source: src!.address });
    const copied = await listed(d, true);
    expect(copied.map((c) => [Number(c.chunkId), c.owner?.path ?? null])).toEqual([[31, OWNER.path], [32, null]]);
    expect((await readChunk(d, 31, 1, 0, data.length)).equals(data)).toBe(true);
  });
});
