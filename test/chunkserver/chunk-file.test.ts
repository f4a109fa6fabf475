/**
 * ChunkFile and the meta format on real files: the checksum definition, crash leftovers (a torn
 * meta slot, a data file longer than its recorded length) and the many-chunk open-file limit.
 */
import { crc32c } from '@node-rs/crc32';
import { open, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { ChunkFile } from '../../src/chunkserver/store/chunk-file.js';
import { ChunkStore } from '../../src/chunkserver/store/chunk-store.js';
import { BLOCK_SIZE, ZERO_BLOCK_CRC, blockCrc } from '../../src/chunkserver/store/checksum.js';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { META_FILE_BYTES } from '../../src/chunkserver/store/meta-file.js';
import { Cleanup, pattern, tempDir } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('checksums', () => {
  it('define a short block as zero-padded to 64 KiB', () => {
    const bytes = pattern(1000);
    const padded = Buffer.alloc(BLOCK_SIZE);
    bytes.copy(padded, 300);
    expect(blockCrc(bytes, 300)).toBe(crc32c(padded));
    expect(blockCrc(new Uint8Array(0))).toBe(ZERO_BLOCK_CRC);
  });
});

describe('ChunkFile', () => {
  it('falls back to the previous meta slot when the newest one is torn', async () => {
    const paths = chunkPaths(await tempDir(cleanup), 5);
    const f = await ChunkFile.create(paths, 5, 1); // slot seq 1
    await f.write(0, pattern(1000));
    await f.setVersion(2); // seq 2
    await f.setVersion(3); // seq 3, slot 1
    await f.close();
    const fh = await open(paths.meta, 'r+');
    await fh.write(Buffer.from('torn'), 0, 4, META_FILE_BYTES / 2 + 100);
    await fh.close();
    const g = await ChunkFile.open(paths, 5);
    expect(g.version).toBe(2);
    expect((await g.read(0, 1000)).equals(pattern(1000))).toBe(true);
    await g.close();
  });

  it('cuts bytes past the recorded length left by an unfinished write', async () => {
    const paths = chunkPaths(await tempDir(cleanup), 6);
    const f = await ChunkFile.create(paths, 6, 1);
    await f.write(0, pattern(100_000));
    await f.sync();
    await f.close();
    // As if a crash hit after an extending pwrite but before the meta record.
    const fh = await open(paths.data, 'r+');
    await fh.write(pattern(50_000, 9), 0, 50_000, 100_000);
    await fh.close();
    const g = await ChunkFile.open(paths, 6);
    expect((await stat(paths.data)).size).toBe(100_000);
    await g.write(200_000, Buffer.from('end'));
    expect((await g.read(100_000, 100_000)).every((x) => x === 0)).toBe(true);
    await g.close();
  });

  it('reports a data file shorter than its length as a checksum error', async () => {
    const paths = chunkPaths(await tempDir(cleanup), 7);
    const f = await ChunkFile.create(paths, 7, 1);
    await f.write(0, pattern(3 * BLOCK_SIZE));
    await f.close();
    await truncate(paths.data, BLOCK_SIZE + 10);
    const g = await ChunkFile.open(paths, 7);
    await expect(g.read(0, BLOCK_SIZE)).resolves.toHaveLength(BLOCK_SIZE);
    await expect(g.read(BLOCK_SIZE, 100)).rejects.toMatchObject({ code: 'EIO' });
    await g.close();
  });
});

describe('ChunkStore', () => {
  it('keeps working past its open-file limit', async () => {
    const dir = join(await tempDir(cleanup), 'd');
    const store = await ChunkStore.open({ dataDirs: [dir], reserveBytes: 0, maxOpenChunks: 4, log: silentLogger });
    cleanup.add(() => store.close());
    for (let id = 1; id <= 20; id++) {
      await store.create(id, 1);
      await store.write(id, 1, id * 1000, pattern(5000, id));
    }
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.flush(i + 1, 1, true)));
    for (let id = 1; id <= 20; id++) {
      expect((await store.read(id, 1, id * 1000, 5000)).equals(pattern(5000, id))).toBe(true);
    }
    expect(store.index.count).toBe(20);
    expect(store.index.usedBytes).toBe(Array.from({ length: 20 }, (_, i) => (i + 1) * 1000 + 5000).reduce((a, b) => a + b));
  });
});
