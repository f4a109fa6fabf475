/**
 * FstClient when chunkservers go away, on a real cluster per test (chunkservers are stopped for
 * good, so no cluster is shared): a flush error is kept and thrown by every later call on the
 * handle, and a read falls back to the next replica while the master still lists the dead one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FsError } from '../../src/common/errors/errno.js';
import { startRealCluster, type RealCluster } from './real-cluster.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof FsError ? e.code : `not an FsError: ${String(e)}`;
  }
  return 'no error';
}

describe('FstClient when chunkservers stop', () => {
  let cluster: RealCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('keeps a flush error and throws it from every later write, fsync and close', async () => {
    cluster = await startRealCluster({ chunkservers: 2, replication: 2 });
    const fst = await cluster.client({ retryForMs: 300, writeTimeoutMs: 10_000 });
    const h = await fst.open('/fail', { create: true, write: true });
    await h.write(0, Buffer.alloc(100, 1));
    await h.fsync(); // chunk 0 is allocated and its location cached by the handle
    const fresh = await fst.open('/fail-new', { create: true, write: true });

    for (const s of cluster.chunkservers) await cluster.stopChunkserver(s.index);

    await h.write(100, Buffer.alloc(100, 2));
    const code = await codeOf(h.fsync());
    expect(code).toBe('EIO');
    expect(await codeOf(h.write(0, Buffer.alloc(1)))).toBe(code);
    expect(await codeOf(h.fsync())).toBe(code);
    expect(await codeOf(h.close())).toBe(code);
    // Closed even though the flush failed.
    expect(await codeOf(h.write(0, Buffer.alloc(1)))).toBe('EBADF');
    // The lost bytes were never published: the size is what the first fsync committed.
    expect((await fst.stat('/fail')).size).toBe(100);

    // A file with no chunk yet: the master cannot create one on a stopped chunkserver.
    await fresh.write(0, Buffer.from('never'));
    const freshCode = await codeOf(fresh.fsync());
    expect(freshCode).toMatch(/^E/);
    expect(freshCode).not.toBe('no error');
    expect(await codeOf(fresh.close())).toBe(freshCode);
    expect((await fst.stat('/fail-new')).size).toBe(0);
  });

  it('falls back to the next replica when the first one is down', async () => {
    // deadAfterMs is long: the master keeps listing the stopped chunkserver, first, all along.
    cluster = await startRealCluster({ chunkservers: 2, replication: 2, deadAfterMs: 60_000 });
    const writer = await cluster.client();
    const data = randomBytes(3 * MiB + 1000);
    await writer.writeFile('/fallback', data);
    const ino = (await writer.stat('/fallback')).ino;
    const before = (await writer.meta.locateChunks(ino, 0, data.length)).chunks[0]!;
    expect(before.replicas).toHaveLength(2);
    const first = before.replicas[0]!.address;
    await writer.close();

    await cluster.stopChunkserver(cluster.slotAt(first).index);

    const reader = await cluster.client({ read: { blockBytes: 256 * 1024, readAheadBytes: MiB } });
    const after = (await reader.meta.locateChunks(ino, 0, data.length)).chunks[0]!;
    expect(after.replicas.map((r) => r.address)).toEqual(before.replicas.map((r) => r.address));
    expect((await cluster.status()).servers.find((s) => s.address === first)?.state).toBe('alive');

    expect(sha(await reader.readFile('/fallback'))).toBe(sha(data));
    const h = await reader.open('/fallback');
    for (const o of [17, 2 * MiB - 3, data.length - 100]) {
      expect((await h.read(o, 5000)).equals(data.subarray(o, o + 5000))).toBe(true);
    }
    await h.close();
    // Direct proof that the first replica cannot serve: alone, it fails.
    expect(await codeOf(reader.chunks.readRange({ ...after, replicas: [after.replicas[0]!] }, 0, 10))).toBe('EIO');
  });
});
