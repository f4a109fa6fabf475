/**
 * Reads survive the loss of a chunkserver: a 200 MiB file (4 chunks, replication 2 on 3
 * chunkservers) is read sequentially through a fresh mount while the chunkserver serving the chunk
 * being read (its first replica) is killed with SIGKILL in the middle of a ReadChunk stream; the
 * read completes with the right sha256.
 * Meanwhile a third mount does small random reads, compared byte for byte with the local copy,
 * before and after the kill.
 */
import { createHash, randomInt } from 'node:crypto';
import { mkdtemp, open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { chunkIdsOnDisk, sha256File, writeRandomFile } from '../helpers/files.js';
import { Cleanup } from '../helpers/cleanup.js';
import { FuseMount, sh } from '../helpers/fuse-mount.js';
import { startProcessCluster, type ChunkserverHandle } from '../helpers/process-cluster.js';
import { loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * MiB;
const SIZE = 200 * MiB + 12_345; // four chunks, the last one short and not block-aligned

describe('fault: reads fail over to the other replica when a chunkserver dies', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('completes a sequential read and keeps random reads right across kill -9 of a replica', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2 }));
    const local = await mkdtemp(join(tmpdir(), 'fst-local-'));
    cleanup.add(() => rm(local, { recursive: true, force: true }));
    const writer = cleanup.stops(await FuseMount.start(cluster.masterAddress));
    const want = await writeRandomFile(join(local, 'big'), SIZE);
    await sh(`cp ${join(local, 'big')} ${writer.path('big')}`);

    const client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    cleanup.add(() => client.close());
    await client.connect();
    const ino = (await client.stat('/big')).ino;
    const { size, chunks } = await client.meta.locateChunks(ino, 0, SIZE);
    expect(size).toBe(SIZE);
    expect(chunks.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    for (const c of chunks) expect(c.replicas).toHaveLength(2);
    const chunk1 = chunks[1]!;
    const holders = cluster.chunkservers.filter((cs) => chunk1.replicas.some((r) => r.address === cs.process.address));
    expect(holders).toHaveLength(2);

    // Fresh mounts: nothing of the file in their block caches nor in the kernel's page cache. The
    // sequential reader reads ahead one 4 MiB block only, so its fetches follow its position.
    const seqMount = cleanup.stops(await FuseMount.start(cluster.masterAddress, ['--read-ahead', '4']));
    const randMount = cleanup.stops(await FuseMount.start(cluster.masterAddress));

    const localFh = await open(join(local, 'big'), 'r');
    const randFh = await open(randMount.path('big'), 'r');
    const seqFh = await open(seqMount.path('big'), 'r');
    let victim: ChunkserverHandle | undefined;
    let killed = false;
    let killTimer: NodeJS.Timeout | undefined;
    let posAtKill = -1;
    let stopRandom = false;
    let randomReadsAfterKill = 0;
    let randomLoop: Promise<void> = Promise.resolve();
    try {
      const hash = createHash('sha256');
      const buf = Buffer.alloc(MiB);
      let pos = 0;
      let sampled: number[] | undefined;
      for (;;) {
        // While the reader is in chunk 1, see which of its two replicas serves it: the one whose
        // process reads (rchar) the most meanwhile.
        if (!sampled && pos >= CHUNK) sampled = await Promise.all(holders.map((h) => readBytes(h.process.pid)));
        if (sampled && !victim && pos >= CHUNK + 8 * MiB) {
          const now = await Promise.all(holders.map((h) => readBytes(h.process.pid)));
          const deltas = now.map((n, i) => n - sampled![i]!);
          const busiest = deltas[0]! >= deltas[1]! ? 0 : 1;
          expect(deltas[busiest], `bytes read by chunk 1's replicas: ${deltas.join(', ')}`).toBeGreaterThan(4 * MiB);
          victim = holders[busiest]!;
          expect(new Set(await chunkIdsOnDisk(victim.dataDir)).has(chunk1.chunkId)).toBe(true);
          randomLoop = (async () => {
            while (!stopRandom) {
              const len = randomInt(1, 256 * 1024);
              const at = randomInt(0, SIZE - 1);
              const got = await preadFully(randFh, at, len);
              const exp = await preadFully(localFh, at, len);
              if (!got.equals(exp)) throw new Error(`random read of ${len} bytes at ${at} (got ${got.length}) differs from the local copy`);
              if (killed && ++randomReadsAfterKill >= 100) break;
            }
          })();
          void randomLoop.catch(() => undefined); // awaited below; handled now so a failure is not reported twice
          // Stopped first (SIGSTOP), so that the reader soon waits on a ReadChunk stream from it,
          // then killed with SIGKILL while that stream is open: the read must go to the other replica.
          process.kill(victim.process.pid, 'SIGSTOP');
          const v = victim;
          killTimer = setTimeout(() => {
            posAtKill = pos;
            void v.process.kill().then(() => (killed = true));
          }, 1500);
        }
        const { bytesRead } = await seqFh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      expect(posAtKill, 'the sequential read was still going when the chunkserver died').toBeGreaterThan(0);
      expect(posAtKill).toBeLessThan(SIZE);
      expect(killed).toBe(true);
      expect(pos).toBe(SIZE);
      expect(hash.digest('hex')).toBe(want);
      await randomLoop;
      expect(randomReadsAfterKill).toBe(100);
    } finally {
      stopRandom = true;
      clearTimeout(killTimer);
      await victim?.process.kill(); // never left stopped
      await randomLoop.catch(() => undefined); // its error, if any, was reported above
      await Promise.allSettled([localFh.close(), randFh.close(), seqFh.close()]);
    }
    expect(victim!.process.running).toBe(false);

    // And a whole-file read through yet another fresh mount, once the master knows the server is dead.
    const after = cleanup.stops(await FuseMount.start(cluster.masterAddress));
    expect(await sha256File(after.path('big'))).toBe(want);
  });
});

/** pread until `len` bytes or end of file. */
async function preadFully(fh: FileHandle, at: number, len: number): Promise<Buffer> {
  const out = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(out, got, len - got, at + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return out.subarray(0, got);
}

/** Bytes a process has read through read(2)-like calls so far (rchar in /proc/PID/io). */
async function readBytes(pid: number): Promise<number> {
  const m = /^rchar: (\d+)$/m.exec(await readFile(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`no rchar in /proc/${pid}/io`);
  return Number(m[1]);
}
