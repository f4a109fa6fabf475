/**
 * FstClient when chunkservers go away, on a real cluster per test (chunkservers are stopped for
 * good, so no cluster is shared): a flush error is kept and thrown by every later call on the
 * handle; a read falls back to the next replica while the master still lists a frozen chunkserver
 * first, and resumes there when a corrupt replica fails in the middle of its stream.
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { ensureBuilt, startRealCluster, type RealCluster } from './real-cluster.js';
import { codeOf } from '../helpers/probes.js';
import { sha256 } from '../helpers/files.js';

const MiB = 1024 * 1024;


describe('FstClient when chunkservers stop', () => {
  let cluster: RealCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('keeps a flush error and throws it from every later write, fsync and close', async () => {
    cluster = await startRealCluster({ chunkservers: 2, replication: 2 });
    const fst = await cluster.client({ retryForMs: 300, writeTimeoutMs: 10_000 });
    // Files past the inline limit: they keep their bytes in chunks.
    const big = 100_000;
    const h = await fst.open('/fail', { create: true, write: true });
    await h.write(0, Buffer.alloc(big, 1));
    await h.fsync(); // chunk 0 is allocated and its location cached by the handle
    const fresh = await fst.open('/fail-new', { create: true, write: true });

    for (const s of cluster.chunkservers) await cluster.stopChunkserver(s.index);

    await h.write(big, Buffer.alloc(100, 2));
    const code = await codeOf(h.fsync());
    expect(code).toBe('EIO');
    expect(await codeOf(h.write(0, Buffer.alloc(1)))).toBe(code);
    expect(await codeOf(h.fsync())).toBe(code);
    expect(await codeOf(h.close())).toBe(code);
    // Closed even though the flush failed.
    expect(await codeOf(h.write(0, Buffer.alloc(1)))).toBe('EBADF');
    // The lost bytes were never published: the size is what the first fsync committed.
    expect((await fst.stat('/fail')).size).toBe(big);

    // A file with no chunk yet: the master cannot create one on a stopped chunkserver.
    await fresh.write(0, Buffer.alloc(big, 3));
    expect(await codeOf(fresh.fsync())).toBe('EIO');
    expect(await codeOf(fresh.close())).toBe('EIO');
    expect((await fst.stat('/fail-new')).size).toBe(0);
  });

  it('falls back to the next replica while the master still lists a frozen chunkserver first', async () => {
    // Chunkservers run as processes: SIGSTOP freezes one with its heartbeat stream open, and
    // deadAfterMs is long, so the master keeps handing it out.
    await ensureBuilt();
    cluster = await startRealCluster({ processChunkservers: 2, chunkservers: 0, replication: 2, deadAfterMs: 60_000 });
    const writer = await cluster.client();
    const data = randomBytes(3 * MiB + 1000);
    await writer.writeFile('/fallback', data);
    const ino = (await writer.stat('/fallback')).ino;
    const before = (await writer.meta.locateChunks(ino, 0, data.length)).chunks[0]!;
    expect(before.replicas).toHaveLength(2);
    await writer.close();

    // Freeze whichever replica the master hands out first, so that the read must fall back.
    const reader = await cluster.client({ readTimeoutMs: 1_000 });
    const listed = (await reader.meta.locateChunks(ino, 0, data.length)).chunks[0]!.replicas.map((r) => r.address);
    const frozen = cluster.chunkservers.find((c) => c.address === listed[0])!;
    cluster.freezeChunkserver(frozen.index);
    const after = (await reader.meta.locateChunks(ino, 0, data.length)).chunks[0]!;
    expect(after.replicas.map((r) => r.address)).toContain(frozen.address);
    expect((await cluster.status()).servers.find((s) => s.address === frozen.address)?.state).toBe('alive');

    expect(sha256(await reader.readFile('/fallback'))).toBe(sha256(data));
    const h = await reader.open('/fallback');
    expect((await h.read(2 * MiB - 3, 5000)).equals(data.subarray(2 * MiB - 3, 2 * MiB + 4997))).toBe(true);
    await h.close();
    // The first replica alone cannot serve: the fallback was needed.
    expect(await codeOf(reader.chunks.readRange({ ...after, replicas: after.replicas.filter((r) => r.address === frozen.address) }, 0, 10))).toBe('ETIMEDOUT');
  });

  it('resumes a read on the next replica where a corrupt replica failed mid-stream', async () => {
    cluster = await startRealCluster({ chunkservers: 2, replication: 2 });
    const fst = await cluster.client();
    const data = randomBytes(3 * MiB);
    await fst.writeFile('/rot', data);
    const ino = (await fst.stat('/rot')).ino;
    const loc = (await fst.meta.locateChunks(ino, 0, data.length)).chunks[0]!;
    expect(loc.replicas).toHaveLength(2);
    // Bit rot past the first 2 MiB of the replica listed first: its checksum no longer matches, so
    // it streams two good messages, then fails (EIO).
    const first = cluster.slotAt(loc.replicas[0]!.address);
    const fh = await open(chunkPaths(first.dataDir, loc.chunkId).data, 'r+');
    try {
      const good = data.subarray(2 * MiB + 5, 2 * MiB + 6);
      await fh.write(Buffer.from([good[0]! ^ 0xff]), 0, 1, 2 * MiB + 5);
      await fh.sync();
    } finally {
      await fh.close();
    }
    expect(await codeOf(fst.chunks.readRange({ ...loc, replicas: [loc.replicas[0]!] }, 0, data.length))).toBe('EIO');
    const whole = await fst.chunks.readRange(loc, 0, data.length);
    expect(sha256(whole)).toBe(sha256(data));
    const reader = await cluster.client();
    expect(sha256(await reader.readFile('/rot'))).toBe(sha256(data));
  });
});
