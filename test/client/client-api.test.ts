/**
 * FstClient against a real cluster in this process (a master on a temporary SQLite file, three
 * chunkservers, replication 2, random ports): the protocol (allocate, chained write, commit,
 * locate), write-back (thresholds, budget, overlapping flushes, read-your-writes, ESTALE after
 * another client's truncate) and the path API. A small flush threshold and budget make several
 * flights out of files of a few MiB; chunks are the real 64 MiB, crossed once by a sparse write.
 * Faults that take daemons down live in client-faults.test.ts, on clusters of their own.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient, type FstClientOptions } from '../../src/client/fst-client.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { createLogger } from '../../src/common/log/logger.js';
import { startRealCluster, type RealCluster } from './real-cluster.js';
import { codeOf, closedPort } from '../helpers/probes.js';
import { sha256 } from '../helpers/files.js';

const MiB = 1024 * 1024;



const WRITEBACK = { flushThresholdBytes: MiB, budgetBytes: 3 * MiB, parallelChunks: 3 };

describe('FstClient on a real cluster', () => {
  let cluster: RealCluster;
  let fst: FstClient;
  const options: Partial<FstClientOptions> = {
    writeback: WRITEBACK,
    read: { blockBytes: 256 * 1024, readAheadBytes: MiB, parallelReads: 3 },
    retryForMs: 2_000,
  };

  beforeAll(async () => {
    cluster = await startRealCluster({ chunkservers: 3, replication: 2 });
    fst = await cluster.client(options);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  let big: Buffer;

  it('round-trips a file written in odd-sized pieces, every replica holding the data', async () => {
    big = randomBytes(5 * MiB + 12345);
    const h = await fst.open('/big', { create: true, write: true });
    let maxPending = 0;
    // Odd-sized writes straddle the flush threshold and the 1 MiB message size.
    for (let o = 0; o < big.length; o += 300_001) {
      await h.write(o, big.subarray(o, o + 300_001));
      maxPending = Math.max(maxPending, h.pendingBytes);
    }
    expect(maxPending).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(WRITEBACK.budgetBytes);
    await h.close();
    const st = await fst.stat('/big');
    expect(st.size).toBe(big.length);
    expect(sha256(await fst.readFile('/big'))).toBe(sha256(big));

    // Each replica, read alone, holds every byte: the chain forwarded the writes.
    const { chunks } = await fst.meta.locateChunks(st.ino, 0, big.length);
    expect(chunks.map((c) => c.index)).toEqual([0]);
    const loc = chunks[0]!;
    expect(new Set(loc.replicas.map((r) => r.address)).size).toBe(2);
    for (const r of loc.replicas) {
      expect(cluster.slotAt(r.address).running).toBe(true);
      const alone = await fst.chunks.readRange({ ...loc, replicas: [r] }, 0, big.length);
      expect(sha256(alone)).toBe(sha256(big));
    }
  });

  it('reads sequentially in small pieces and at random offsets', async () => {
    const h = await fst.open('/big');
    const parts: Buffer[] = [];
    for (let o = 0; ; o += 100_000) {
      const p = await h.read(o, 100_000);
      if (p.length === 0) break;
      parts.push(p);
    }
    expect(sha256(Buffer.concat(parts))).toBe(sha256(big));
    for (const o of [2 * MiB - 7, 17, 4 * MiB + 3, big.length - 5]) {
      expect((await h.read(o, 70_000)).equals(big.subarray(o, o + 70_000))).toBe(true);
    }
    expect((await h.read(big.length, 10)).length).toBe(0);
    await h.close();
  });

  it('crosses the 64 MiB chunk boundary with a sparse write, then overwrites across it', async () => {
    const start = CHUNK_SIZE - 1.5 * MiB;
    const data = randomBytes(3 * MiB);
    const h = await fst.open('/boundary', { create: true, read: true, write: true });
    await h.write(start, data);
    await h.fsync();
    const st = await fst.stat('/boundary');
    expect(st.size).toBe(start + data.length);
    const { chunks } = await fst.meta.locateChunks(st.ino, 0, st.size);
    expect(chunks.map((c) => c.index)).toEqual([0, 1]);

    const r = await fst.open('/boundary');
    expect((await r.read(start, data.length)).equals(data)).toBe(true);
    expect((await r.read(0, 64 * 1024)).every((x) => x === 0)).toBe(true);
    expect([...(await r.read(start - 4, 8))]).toEqual([0, 0, 0, 0, ...data.subarray(0, 4)]);
    await r.close();

    const patch = randomBytes(5000);
    await h.write(CHUNK_SIZE - 2000, patch);
    await h.close();
    patch.copy(data, CHUNK_SIZE - 2000 - start);
    const again = await fst.open('/boundary');
    expect(sha256(await again.read(start, data.length))).toBe(sha256(data));
    await again.close();
  });

  it('sees its own writes before they are flushed, including past the committed size', async () => {
    const h = await fst.open('/ryw', { create: true, read: true, write: true });
    await h.write(0, Buffer.from('hello'));
    expect((await h.read(0, 100)).toString()).toBe('hello');
    await h.write(3 * MiB, Buffer.from('far'));
    expect([...(await h.read(3 * MiB - 2, 10))]).toEqual([0, 0, ...Buffer.from('far')]);
    expect((await h.stat()).size).toBe(3 * MiB + 3);
    // The master has nothing yet: what the reads saw came from the file's buffer, which this
    // client's path stat shows too (as a mount's does), and another client does not.
    const ino = (await fst.stat('/ryw')).ino;
    expect((await fst.meta.getAttr(ino)).size).toBe(0);
    expect((await fst.stat('/ryw')).size).toBe(3 * MiB + 3);
    const other = await cluster.client(options);
    expect((await other.stat('/ryw')).size).toBe(0);
    await other.close();
    await h.fsync();
    expect((await fst.stat('/ryw')).size).toBe(3 * MiB + 3);
    expect((await h.read(0, 5)).toString()).toBe('hello');
    await h.close();
    const d = await fst.readFile('/ryw');
    expect(d.subarray(0, 5).toString()).toBe('hello');
    expect(d.subarray(5, 3 * MiB).every((x) => x === 0)).toBe(true);
    expect(d.subarray(3 * MiB).toString()).toBe('far');
  });

  it('lands overlapping flushes in write order, and reads see data still in flight', async () => {
    const h = await fst.open('/order', { create: true, read: true, write: true });
    for (let round = 0; round < 5; round++) {
      // Two flights per round (the threshold is 1 MiB), every one over the same bytes of chunk 0.
      await h.write(MiB / 2, Buffer.alloc(2 * MiB, 0x61 + round));
      expect(h.pendingBytes).toBeGreaterThan(0);
      const seen = await h.read(MiB / 2, 2 * MiB);
      expect(seen.length).toBe(2 * MiB);
      expect(seen.every((x) => x === 0x61 + round)).toBe(true);
    }
    await h.close();
    const d = await fst.readFile('/order');
    expect(d.length).toBe(MiB / 2 + 2 * MiB);
    expect(d.subarray(0, MiB / 2).every((x) => x === 0)).toBe(true);
    expect(d.subarray(MiB / 2).every((x) => x === 0x65)).toBe(true);
  });

  it('keeps holes as zeros, and allocates no chunk for a hole', async () => {
    const h = await fst.open('/sparse', { create: true, write: true });
    await h.write(3 * MiB + 10, Buffer.from('tail'));
    await h.close();
    const d = await fst.readFile('/sparse');
    expect(d.length).toBe(3 * MiB + 14);
    expect(d.subarray(0, 3 * MiB + 10).every((x) => x === 0)).toBe(true);
    expect(d.subarray(3 * MiB + 10).toString()).toBe('tail');

    const w = await fst.open('/sparse2', { create: true, write: true });
    await w.write(2 * CHUNK_SIZE + 10, Buffer.from('tail'));
    await w.close();
    const st = await fst.stat('/sparse2');
    expect(st.size).toBe(2 * CHUNK_SIZE + 14);
    expect((await fst.meta.locateChunks(st.ino, 0, st.size)).chunks.map((c) => c.index)).toEqual([2]);
    const r = await fst.open('/sparse2');
    expect((await r.read(CHUNK_SIZE - 100, 200)).every((x) => x === 0)).toBe(true);
    expect([...(await r.read(2 * CHUNK_SIZE + 8, 100))]).toEqual([0, 0, ...Buffer.from('tail')]);
    await r.close();
  });

  it('overwrites in the middle of a file and over a flushed range', async () => {
    const base = randomBytes(3 * MiB);
    await fst.writeFile('/ow', base);
    const h = await fst.open('/ow', { write: true });
    const a = randomBytes(1000);
    const b = randomBytes(5000);
    await h.write(MiB / 2, a);
    await h.write(2 * MiB - 2000, b);
    await h.close();
    a.copy(base, MiB / 2);
    b.copy(base, 2 * MiB - 2000);
    expect(sha256(await fst.readFile('/ow'))).toBe(sha256(base));
  });

  it('truncates down, reads zeros where the file grows again, and writes after it', async () => {
    const base = randomBytes(2 * MiB + 100);
    await fst.writeFile('/tr', base);
    const h = await fst.open('/tr', { read: true, write: true });
    // A flushed write caches the allocation of chunk 0, which the truncate moves to a new version.
    await h.write(0, Buffer.from('y'));
    await h.fsync();
    await h.truncate(MiB + 10);
    await h.truncate(3 * MiB);
    const d = await h.read(MiB, 2 * MiB);
    expect(d.length).toBe(2 * MiB);
    expect(d.subarray(0, 10).equals(base.subarray(MiB, MiB + 10))).toBe(true);
    expect(d.subarray(10).every((x) => x === 0)).toBe(true);
    await h.write(MiB + 20, Buffer.from('x'));
    await h.close();
    const all = await fst.readFile('/tr');
    expect(all.length).toBe(3 * MiB);
    expect(all[0]).toBe('y'.charCodeAt(0));
    expect(all.subarray(1, MiB + 10).equals(base.subarray(1, MiB + 10))).toBe(true);
    expect(all[MiB + 20]).toBe('x'.charCodeAt(0));
    expect(all.subarray(MiB + 10, MiB + 20).every((x) => x === 0)).toBe(true);
  });

  it('allocates again and retries when a write meets ESTALE after another client truncates', async () => {
    const lines: string[] = [];
    const writer = await cluster.client({ ...options, logger: createLogger('client', 'debug', {}, (l) => lines.push(l)) });
    const other = await cluster.client(options);
    const h = await writer.open('/stale', { create: true, write: true });
    // Larger than files kept inline in the metadata: this one lives in a chunk.
    const one = 'one'.repeat(30_000);
    await h.write(0, Buffer.from(one));
    await h.fsync();
    const ino = (await writer.stat('/stale')).ino;
    const before = (await writer.meta.locateChunks(ino, 0, 3)).chunks[0]!.version;
    // Another client's truncate (to the same size) cuts chunk 0 and moves it to a new version on the
    // chunkservers: the writer's cached allocation is now stale.
    await other.truncate('/stale', one.length);
    expect((await other.meta.locateChunks(ino, 0, 3)).chunks[0]!.version).toBe(before + 1);
    await h.write(one.length, Buffer.from('two'));
    await h.close();
    expect((await other.readFile('/stale')).toString()).toBe(`${one}two`);
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toContain('chunk version moved on: allocating again');
    expect((await other.meta.locateChunks(ino, 0, 6)).chunks[0]!.version).toBe(before + 2);
    await writer.close();
    await other.close();
  });

  it('appends at the end and honours open flags', async () => {
    await fst.writeFile('/app', 'abc');
    const h = await fst.open('/app', { append: true });
    await h.append(Buffer.from('def'));
    await h.write(0, Buffer.from('ghi')); // O_APPEND: goes to the end too
    expect(await codeOf(h.read(0, 1))).toBe('EBADF');
    await h.close();
    expect(await codeOf(h.write(0, Buffer.from('x')))).toBe('EBADF');
    expect((await fst.readFile('/app')).toString()).toBe('abcdefghi');
    expect(await codeOf(fst.open('/app', { create: true, exclusive: true }))).toBe('EEXIST');
    expect(await codeOf(fst.open('/nope'))).toBe('ENOENT');
    const r = await fst.open('/app');
    expect(await codeOf(r.write(0, Buffer.from('x')))).toBe('EBADF');
    expect(await codeOf(r.truncate(0))).toBe('EBADF');
    await r.close();
    await fst.writeFile('/app', 'z');
    expect((await fst.readFile('/app')).toString()).toBe('z');
  });

  it('handles directories: mkdirp, readdir over several pages, rename, rm -r', async () => {
    await fst.mkdirp('/d/e/f');
    await fst.mkdirp('/d/e/f');
    for (let i = 0; i < 8; i++) await fst.writeFile(`/d/e/file${i}`, `${i}`);
    const names = (await fst.readdir('/d/e')).map((e) => e.name);
    expect(names).toEqual(['f', ...Array.from({ length: 8 }, (_, i) => `file${i}`)]);
    const withAttrs = await fst.readdir('/d/e', { withAttrs: true });
    expect(withAttrs.find((e) => e.name === 'file3')?.stat?.size).toBe(1);
    expect(withAttrs.find((e) => e.name === 'f')?.kind).toBe('directory');

    // More entries than the master's page (1000): the listing must follow the pages.
    const N = 1003;
    const many = Array.from({ length: N }, (_, i) => `n${String(i).padStart(4, '0')}`);
    await fst.mkdir('/d/many');
    for (let i = 0; i < N; i += 50) {
      await Promise.all(many.slice(i, i + 50).map(async (n) => (await fst.open(`/d/many/${n}`, { create: true, write: true })).close()));
    }
    const dir = await fst.stat('/d/many');
    const firstPage = await fst.meta.readdir(dir.ino);
    expect(firstPage.more).toBe(true);
    expect(firstPage.entries.length).toBeLessThan(N);
    expect((await fst.readdir('/d/many')).map((e) => e.name)).toEqual(many);

    expect(await codeOf(fst.mkdir('/d'))).toBe('EEXIST');
    expect(await codeOf(fst.rmdir('/d'))).toBe('ENOTEMPTY');
    expect(await codeOf(fst.rm('/d'))).toBe('EISDIR');
    expect(await codeOf(fst.readdir('/d/e/file1'))).toBe('ENOTDIR');
    expect(await codeOf(fst.mkdirp('/d/e/file1/x'))).toBe('ENOTDIR');
    await fst.rename('/d/e/file0', '/d/moved');
    expect(await fst.exists('/d/e/file0')).toBe(false);
    expect(await codeOf(fst.rename('/d/moved', '/d/e/file1', { noReplace: true }))).toBe('EEXIST');
    expect((await fst.readFile('/d/moved')).toString()).toBe('0');
    await fst.rename('/d/moved', '/d/e/file1');
    expect((await fst.readFile('/d/e/file1')).toString()).toBe('0');
    await fst.rm('/d', { recursive: true });
    expect(await fst.exists('/d')).toBe(false);
    expect(await codeOf(fst.rm('/', { recursive: true }))).toBe('EBUSY');
  });

  it('follows symlinks, links files and keeps attributes', async () => {
    await fst.mkdirp('/s/real');
    await fst.writeFile('/s/real/f', 'data');
    await fst.symlink('real', '/s/link');
    await fst.symlink('/s/link/f', '/s/abs');
    await fst.symlink('loop', '/s/loop');
    expect((await fst.readFile('/s/link/f')).toString()).toBe('data');
    expect((await fst.readFile('/s/abs')).toString()).toBe('data');
    expect((await fst.lstat('/s/abs')).kind).toBe('symlink');
    expect(await fst.readlink('/s/abs')).toBe('/s/link/f');
    expect(await codeOf(fst.stat('/s/loop'))).toBe('ELOOP');
    await fst.link('/s/real/f', '/s/hard');
    expect((await fst.stat('/s/hard')).nlink).toBe(2);
    expect((await fst.stat('/s/hard')).ino).toBe((await fst.stat('/s/real/f')).ino);
    await fst.chmod('/s/hard', 0o600);
    expect((await fst.stat('/s/real/f')).mode & 0o7777).toBe(0o600);
    await fst.utimes('/s/hard', undefined, new Date(1_000_000_000_500));
    expect((await fst.stat('/s/hard')).mtime).toEqual({ sec: 1_000_000_000, nsec: 500_000_000 });
    await fst.setxattr('/s/hard', 'user.k', 'v');
    expect((await fst.getxattr('/s/real/f', 'user.k')).toString()).toBe('v');
    expect(await fst.listxattr('/s/hard')).toEqual(['user.k']);
    await fst.removexattr('/s/hard', 'user.k');
    expect(await codeOf(fst.getxattr('/s/hard', 'user.k'))).toBe('ENODATA');
    await fst.unlink('/s/real/f');
    expect((await fst.stat('/s/hard')).nlink).toBe(1);
    expect((await fst.readFile('/s/hard')).toString()).toBe('data');
    expect(await codeOf(fst.stat('/s/abs'))).toBe('ENOENT');
    expect((await fst.statfs()).chunkSize).toBe(CHUNK_SIZE);
  });

  it('waits for the budget instead of buffering without bound', async () => {
    const budget = { flushThresholdBytes: MiB / 2, budgetBytes: 3 * MiB / 2, parallelChunks: 2 };
    const c = await cluster.client({ ...options, writeback: budget });
    const h = await c.open('/budget', { create: true, write: true });
    const data = randomBytes(10 * MiB);
    const piece = 256 * 1024;
    let maxPending = 0;
    // Sampled between writes and, independently, while they wait.
    const sampler = setInterval(() => (maxPending = Math.max(maxPending, h.pendingBytes)), 1);
    try {
      for (let o = 0; o < data.length; o += piece) {
        await h.write(o, data.subarray(o, o + piece));
        maxPending = Math.max(maxPending, h.pendingBytes);
      }
    } finally {
      clearInterval(sampler);
    }
    await h.close();
    expect(maxPending).toBeGreaterThan(budget.flushThresholdBytes);
    expect(maxPending).toBeLessThanOrEqual(budget.budgetBytes);
    expect((await c.stat('/budget')).size).toBe(data.length);
    expect(sha256(await c.readFile('/budget'))).toBe(sha256(data));
    await c.close();
  });

  it('fails connect() with ETIMEDOUT when nothing listens at the master address', async () => {
    const dead = new FstClient({ master: `127.0.0.1:${await closedPort()}`, connectTimeoutMs: 300 });
    const t0 = Date.now();
    expect(await codeOf(dead.connect())).toBe('ETIMEDOUT');
    expect(Date.now() - t0).toBeLessThan(5_000);
    await dead.close();
  });
});
