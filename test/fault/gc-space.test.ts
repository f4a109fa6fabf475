/**
 * Deleting files gives their space back: 1 GiB written through a mount (4 x 256 MiB, replication
 * 2, so about 2 GiB on the chunkservers' disks), then removed with rm; within the GC delay (the
 * process cluster runs the master with --gc-interval-ms 1000) the data directories shrink back to
 * their starting size, and no chunkserver keeps a removed chunk file open (which would hold its
 * blocks although du no longer counts it).
 */
import { readdir, readlink } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { writeRandomFile } from '../helpers/files.js';
import { FuseMount, sh } from '../helpers/fuse-mount.js';
import { waitFor, WAIT_MS } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Bytes allocated on disk under each directory (du -s -B1). */
async function diskUsage(dirs: string[]): Promise<number> {
  const out = await sh(`du -s -B1 ${dirs.map((d) => `'${d}'`).join(' ')}`);
  return out.trim().split('\n').reduce((sum, line) => sum + Number(line.split('\t')[0]), 0);
}

/** Files under `dir` that process `pid` still holds open although they were removed. */
async function openRemovedFiles(pid: number, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir) && target.endsWith(' (deleted)')) found.push(target);
  }
  return found;
}

describe('fault: space of deleted files comes back', () => {
  let cluster: ProcessCluster | undefined;
  let mount: FuseMount | undefined;
  afterEach(async () => {
    await mount?.stop();
    await cluster?.stop();
    cluster = mount = undefined;
  });

  it('frees the chunks of 1 GiB of removed files soon after rm', async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    mount = await FuseMount.start(cluster.masterAddress);
    const dirs = cluster.chunkservers.map((c) => c.dataDir);
    const start = await diskUsage(dirs);

    await sh(`mkdir ${mount.path('big')}`);
    for (let i = 0; i < 4; i++) await writeRandomFile(mount.path(`big/f${i}`), 256 * MiB);
    const full = await diskUsage(dirs);
    // Two replicas of every byte are on the disks (the measure sees what it must see).
    expect(full - start).toBeGreaterThan(2 * GiB * 0.95);

    await sh(`rm -r ${mount.path('big')}`);
    const removedAt = Date.now();
    let left = full - start;
    await waitFor('space freed', async () => {
      left = (await diskUsage(dirs)) - start;
      return left < 0.05 * GiB ? true : undefined;
    }, WAIT_MS, 500).catch(() => undefined);
    expect(left, `bytes still used ${Date.now() - removedAt} ms after rm`).toBeLessThan(0.05 * GiB);

    for (const cs of cluster.chunkservers) expect(await openRemovedFiles(cs.process.pid, cs.dataDir), `chunkserver ${cs.index}`).toEqual([]);
  });
});
