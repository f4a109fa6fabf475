/**
 * FstClient against the in-process fake cluster: the protocol (allocate, chained write, commit,
 * locate, replica fallback), write-back (thresholds, backpressure, read-your-writes, sticky errors)
 * and the path API. Small chunks (1 MiB) make multi-chunk files cheap.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient, type FstClientOptions } from '../../src/client/fst-client.js';
import { FsError } from '../../src/common/errors/errno.js';
import { startFakeCluster, type FakeCluster } from './fake-cluster.js';

const CHUNK = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof FsError ? e.code : `not an FsError: ${String(e)}`;
  }
  return 'no error';
}

describe('FstClient on a fake cluster', () => {
  let cluster: FakeCluster;
  let fst: FstClient;
  const options = (): FstClientOptions => ({
    master: cluster.master.address,
    writeback: { chunkSize: CHUNK, flushThresholdBytes: 2 * CHUNK, budgetBytes: 6 * CHUNK, parallelChunks: 3 },
    read: { chunkSize: CHUNK, blockBytes: 256 * 1024, readAheadBytes: CHUNK, parallelReads: 3 },
    retryForMs: 0,
  });

  beforeAll(async () => {
    cluster = await startFakeCluster({ chunkservers: 3, replication: 2, chunkSize: CHUNK });
    fst = new FstClient(options());
    await fst.connect();
  });
  afterAll(async () => {
    await fst.close();
    await cluster.stop();
  });

  it('round-trips a file over many chunks, with every replica holding the data', async () => {
    const data = randomBytes(10 * CHUNK + 12345);
    const h = await fst.open('/big', { create: true, write: true });
    // Odd-sized writes so that they straddle chunk and threshold boundaries.
    for (let o = 0; o < data.length; o += 300_001) await h.write(o, data.subarray(o, o + 300_001));
    expect(h.pendingBytes).toBeLessThanOrEqual(6 * CHUNK);
    await h.close();
    expect((await fst.stat('/big')).size).toBe(data.length);
    expect(sha(await fst.readFile('/big'))).toBe(sha(data));
    const ino = (await fst.stat('/big')).ino;
    const chunk = cluster.master.chunkOf(ino, 3)!;
    expect(chunk.servers).toHaveLength(2);
    for (const s of chunk.servers) {
      expect(s.chunks.get(chunk.chunkId)!.data.subarray(0, CHUNK).equals(data.subarray(3 * CHUNK, 4 * CHUNK))).toBe(true);
    }
  });

  it('reads sequentially in small pieces and randomly', async () => {
    const data = await fst.readFile('/big');
    const h = await fst.open('/big');
    const parts: Buffer[] = [];
    for (let o = 0; ; o += 100_000) {
      const p = await h.read(o, 100_000);
      if (p.length === 0) break;
      parts.push(p);
    }
    expect(sha(Buffer.concat(parts))).toBe(sha(data));
    for (const o of [5 * CHUNK - 7, 17, 9 * CHUNK + 3, data.length - 5]) {
      expect((await h.read(o, 70_000)).equals(data.subarray(o, o + 70_000))).toBe(true);
    }
    expect((await h.read(data.length, 10)).length).toBe(0);
    await h.close();
  });

  it('sees its own writes before they are flushed, including past the committed size', async () => {
    const h = await fst.open('/ryw', { create: true, read: true, write: true });
    await h.write(0, Buffer.from('hello'));
    expect((await h.read(0, 100)).toString()).toBe('hello');
    await h.write(3 * CHUNK, Buffer.from('far'));
    const r = await h.read(3 * CHUNK - 2, 10);
    expect([...r]).toEqual([0, 0, ...Buffer.from('far')]);
    expect((await h.stat()).size).toBe(3 * CHUNK + 3);
    await h.fsync();
    expect((await h.read(0, 5)).toString()).toBe('hello');
    await h.close();
    expect((await fst.stat('/ryw')).size).toBe(3 * CHUNK + 3);
  });

  it('lands overlapping flushes in write order, and reads see data still in flight', async () => {
    const h = await fst.open('/order', { create: true, read: true, write: true });
    for (let round = 0; round < 5; round++) {
      // Each write reaches the flush threshold: five flights, all over the same two chunks.
      await h.write(CHUNK / 2, Buffer.alloc(2 * CHUNK, 0x61 + round));
      const seen = await h.read(CHUNK / 2, 2 * CHUNK);
      expect(seen.every((x) => x === 0x61 + round)).toBe(true);
    }
    await h.close();
    const d = await fst.readFile('/order');
    expect(d.length).toBe(CHUNK / 2 + 2 * CHUNK);
    expect(d.subarray(CHUNK / 2).every((x) => x === 0x65)).toBe(true);
  });

  it('keeps holes as zeros in a sparse file', async () => {
    const h = await fst.open('/sparse', { create: true, write: true });
    await h.write(5 * CHUNK + 10, Buffer.from('tail'));
    await h.close();
    const d = await fst.readFile('/sparse');
    expect(d.length).toBe(5 * CHUNK + 14);
    expect(d.subarray(0, 5 * CHUNK + 10).every((x) => x === 0)).toBe(true);
    expect(d.subarray(5 * CHUNK + 10).toString()).toBe('tail');
    const ino = (await fst.stat('/sparse')).ino;
    expect(cluster.master.chunkOf(ino, 2)).toBeUndefined();
  });

  it('overwrites mid-chunk and across a chunk boundary', async () => {
    const base = randomBytes(3 * CHUNK);
    await fst.writeFile('/ow', base);
    const h = await fst.open('/ow', { write: true });
    const a = randomBytes(1000);
    const b = randomBytes(5000);
    await h.write(CHUNK / 2, a);
    await h.write(2 * CHUNK - 2000, b);
    await h.close();
    a.copy(base, CHUNK / 2);
    b.copy(base, 2 * CHUNK - 2000);
    expect(sha(await fst.readFile('/ow'))).toBe(sha(base));
  });

  it('truncates down, then reads zeros where the file grows again', async () => {
    await fst.writeFile('/tr', randomBytes(2 * CHUNK + 100));
    const h = await fst.open('/tr', { read: true, write: true });
    await h.truncate(CHUNK + 10);
    await h.truncate(3 * CHUNK);
    const d = await h.read(CHUNK, 2 * CHUNK);
    expect(d.length).toBe(2 * CHUNK);
    expect(d.subarray(10).every((x) => x === 0)).toBe(true);
    // The handle's cached allocation of chunk 1 is stale after the truncate: writing must still work.
    await h.write(CHUNK + 20, Buffer.from('x'));
    await h.close();
    expect((await fst.readFile('/tr'))[CHUNK + 20]).toBe('x'.charCodeAt(0));
  });

  it('allocates again and retries once when a write meets ESTALE', async () => {
    const h = await fst.open('/stale', { create: true, write: true });
    await h.write(0, Buffer.from('one'));
    await h.fsync();
    // Another writer moves the chunk to a new version.
    const ino = (await fst.stat('/stale')).ino;
    const c = cluster.master.chunkOf(ino, 0)!;
    c.version++;
    for (const s of c.servers) s.setVersion(c.chunkId, c.version);
    await h.write(3, Buffer.from('two'));
    await h.close();
    expect((await fst.readFile('/stale')).toString()).toBe('onetwo');
  });

  it('keeps a flush error and throws it from every later write, fsync and close', async () => {
    const h = await fst.open('/fail', { create: true, write: true });
    for (const s of cluster.chunkservers) s.writeFaults.push('ENOSPC', 'ENOSPC');
    await h.write(0, Buffer.alloc(100));
    expect(await codeOf(h.fsync())).toBe('ENOSPC');
    expect(await codeOf(h.write(0, Buffer.alloc(1)))).toBe('ENOSPC');
    expect(await codeOf(h.close())).toBe('ENOSPC');
    for (const s of cluster.chunkservers) s.writeFaults.length = 0;
    expect(await codeOf(h.write(0, Buffer.alloc(1)))).toBe('EBADF');
  });

  it('falls back to the next replica when a read fails', async () => {
    const data = randomBytes(1000);
    await fst.writeFile('/fallback', data);
    for (const s of cluster.chunkservers) s.readFaults.push('EIO');
    const ino = (await fst.stat('/fallback')).ino;
    const c = cluster.master.chunkOf(ino, 0)!;
    // Only the first replica fails.
    c.servers[1]!.readFaults.length = 0;
    const back = await fst.readFile('/fallback');
    for (const s of cluster.chunkservers) s.readFaults.length = 0;
    expect(back.equals(data)).toBe(true);
  });

  it('appends at the end and honours open flags', async () => {
    await fst.writeFile('/app', 'abc');
    const h = await fst.open('/app', { append: true });
    await h.append(Buffer.from('def'));
    await h.write(0, Buffer.from('ghi')); // O_APPEND: goes to the end too
    expect(await codeOf(h.read(0, 1))).toBe('EBADF');
    await h.close();
    expect((await fst.readFile('/app')).toString()).toBe('abcdefghi');
    expect(await codeOf(fst.open('/app', { create: true, exclusive: true }))).toBe('EEXIST');
    expect(await codeOf(fst.open('/nope'))).toBe('ENOENT');
    const r = await fst.open('/app');
    expect(await codeOf(r.write(0, Buffer.from('x')))).toBe('EBADF');
    await r.close();
    await fst.writeFile('/app', 'z');
    expect((await fst.readFile('/app')).toString()).toBe('z');
  });

  it('handles directories: mkdirp, readdir over pages, rename, rm -r', async () => {
    await fst.mkdirp('/d/e/f');
    await fst.mkdirp('/d/e/f');
    for (let i = 0; i < 8; i++) await fst.writeFile(`/d/e/file${i}`, `${i}`);
    const names = (await fst.readdir('/d/e')).map((e) => e.name);
    expect(names).toEqual(['f', ...Array.from({ length: 8 }, (_, i) => `file${i}`)]);
    const withAttrs = await fst.readdir('/d/e', { withAttrs: true });
    expect(withAttrs.find((e) => e.name === 'file3')?.stat?.size).toBe(1);
    expect(await codeOf(fst.mkdir('/d'))).toBe('EEXIST');
    expect(await codeOf(fst.rmdir('/d'))).toBe('ENOTEMPTY');
    expect(await codeOf(fst.rm('/d'))).toBe('EISDIR');
    expect(await codeOf(fst.readdir('/d/e/file1'))).toBe('ENOTDIR');
    expect(await codeOf(fst.mkdirp('/d/e/file1/x'))).toBe('ENOTDIR');
    await fst.rename('/d/e/file0', '/d/moved');
    expect(await codeOf(fst.rename('/d/moved', '/d/e/file1', { noReplace: true }))).toBe('EEXIST');
    expect((await fst.readFile('/d/moved')).toString()).toBe('0');
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
    await fst.chmod('/s/hard', 0o600);
    expect((await fst.stat('/s/real/f')).mode & 0o7777).toBe(0o600);
    await fst.utimes('/s/hard', undefined, new Date(1_000_000_000_500));
    expect((await fst.stat('/s/hard')).mtime).toEqual({ sec: 1_000_000_000, nsec: 500_000_000 });
    await fst.setxattr('/s/hard', 'user.k', 'v');
    expect((await fst.getxattr('/s/hard', 'user.k')).toString()).toBe('v');
    expect(await fst.listxattr('/s/hard')).toEqual(['user.k']);
    await fst.removexattr('/s/hard', 'user.k');
    expect(await codeOf(fst.getxattr('/s/hard', 'user.k'))).toBe('ENODATA');
    expect((await fst.statfs()).chunkSize).toBe(CHUNK);
  });

  it('waits for the budget instead of buffering without bound', async () => {
    const h = await fst.open('/budget', { create: true, write: true });
    const piece = randomBytes(CHUNK / 2);
    let maxPending = 0;
    for (let i = 0; i < 40; i++) {
      await h.write(i * piece.length, piece);
      maxPending = Math.max(maxPending, h.pendingBytes);
    }
    await h.close();
    expect(maxPending).toBeLessThanOrEqual(6 * CHUNK);
    expect((await fst.stat('/budget')).size).toBe(20 * CHUNK);
  });

  it('fails connect() with ETIMEDOUT when no master answers', async () => {
    const dead = new FstClient({ master: '127.0.0.1:1', connectTimeoutMs: 300 });
    const t0 = Date.now();
    expect(await codeOf(dead.connect())).toBe('ETIMEDOUT');
    expect(Date.now() - t0).toBeLessThan(3000);
    await dead.close();
  });
});
