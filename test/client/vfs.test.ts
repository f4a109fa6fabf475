/**
 * The Vfs without a mount (as JuiceFS tests pkg/vfs): real master and chunkservers in-process, the
 * FUSE-shaped operations called directly. Covers what is awkward to see through the kernel: the
 * mount-wide write-back memory limit, the idle flush, the shared read cache and the per-inode
 * attribute cache.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { Vfs } from '../../src/client/vfs/vfs.js';
import type { FstClient } from '../../src/client/fst-client.js';
import { startRealCluster, type RealCluster } from './real-cluster.js';

const ctx = { uid: 0, gid: 0, pid: 1 };
const MiB = 1024 * 1024;

describe('Vfs', () => {
  let cluster: RealCluster;
  let client: FstClient;
  beforeAll(async () => {
    cluster = await startRealCluster({ chunkservers: 2, replication: 2 });
    client = await cluster.client();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  function vfs(extra: Partial<ConstructorParameters<typeof Vfs>[0]> = {}): Vfs {
    return new Vfs({ meta: client.meta, chunks: client.chunks, log: silentLogger, ...extra });
  }

  it('keeps all files together under the mount-wide write-back limit', async () => {
    const v = vfs({ writebackMemoryBytes: 3 * MiB, writeback: { flushThresholdBytes: 8 * MiB } });
    const files = ['/m1', '/m2', '/m3', '/m4'];
    const fhs = await Promise.all(files.map(async (f) => (await v.create(f, 0o644, constants.O_RDWR, ctx)).fh));
    const data = files.map(() => randomBytes(6 * MiB));
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, v.writebackMemory())), 2);
    await Promise.all(fhs.map(async (fh, i) => {
      for (let off = 0; off < 6 * MiB; off += 256 * 1024) await v.write(fh, data[i]!.subarray(off, off + 256 * 1024), off);
    }));
    clearInterval(sample);
    await Promise.all(fhs.map((fh) => v.flush(fh)));
    await Promise.all(fhs.map((fh) => v.release(fh)));
    // One write may go over by its own size while others drain; never by a file's worth.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3 * MiB + 4 * 256 * 1024);
    for (let i = 0; i < files.length; i++) expect((await client.readFile(files[i]!)).equals(data[i]!)).toBe(true);
  });

  it('sends buffered data after the idle delay without a close', async () => {
    const v = vfs({ writeback: { idleFlushMs: 200 } });
    const fh = (await v.create('/idle', 0o644, constants.O_RDWR, ctx)).fh;
    await v.write(fh, Buffer.from('written, never closed'), 0);
    expect((await client.meta.getAttr((await client.stat('/idle')).ino)).size).toBe(0);
    const deadline = Date.now() + 5_000;
    let size = 0;
    while (size === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      size = (await client.stat('/idle')).size;
    }
    expect(size).toBe(21);
    await v.release(fh);
  });

  it('serves repeated reads of one file from the shared cache, across descriptors', async () => {
    await client.writeFile('/cached', randomBytes(3 * MiB));
    const v = vfs();
    const a = (await v.open('/cached', constants.O_RDONLY)).fh;
    const b = (await v.open('/cached', constants.O_RDONLY)).fh;
    const [x, y] = await Promise.all([v.read(a, 0, MiB), v.read(b, 0, MiB)]);
    expect(x.equals(y)).toBe(true);
    // A third descriptor finds the blocks the first two fetched (they shared one fetch each).
    const c = (await v.open('/cached', constants.O_RDONLY)).fh;
    const before = v.cacheStats();
    const z = await v.read(c, 4096, 4096);
    expect(z.equals(x.subarray(4096, 8192))).toBe(true);
    expect(v.cacheStats().hits).toBeGreaterThan(before.hits);
    for (const fh of [a, b, c]) await v.release(fh);
  });

  it("shows a hard link's nlink through the other name at once", async () => {
    const v = vfs();
    const fh = (await v.create('/l1', 0o644, constants.O_RDWR, ctx)).fh;
    await v.release(fh);
    expect((await v.getattr('/l1')).nlink).toBe(1);
    expect((await v.open('/l1', constants.O_RDONLY)).directIo).toBe(false);
    await v.link('/l1', '/l2', ctx);
    expect((await v.getattr('/l1')).nlink).toBe(2);
    // Hard-linked files bypass the kernel's per-name page caches.
    expect((await v.open('/l2', constants.O_RDONLY)).directIo).toBe(true);
    await v.unlink('/l2', ctx);
    expect((await v.getattr('/l1')).nlink).toBe(1);
  });
});
