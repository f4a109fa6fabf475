/**
 * The bar's first fault: kill -9 one of three chunkservers (replication 2) while 500 MiB are being
 * written through the mount. The write completes without an error, the file reads back with the
 * same sha256 (through a fresh mount, so nothing comes from the writer's caches), and within a
 * bounded time every chunk has two live up-to-date replicas again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { adminStatus } from '../helpers/cli.js';
import { sha256File } from '../helpers/files.js';
import { Cleanup } from '../helpers/cleanup.js';
import { FuseMount } from '../helpers/fuse-mount.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;
const SIZE = 500 * MiB;

describe('kill -9 of a chunkserver during a write through the mount', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('completes the write, keeps the content and restores two replicas of every chunk', async () => {
    const cluster = cleanup.stops(await startProcessCluster({
      chunkservers: 3, replication: 2,
      masterArgs: ['--lease-ms', '5000', '--replace-after-ms', '3000', '--replication-interval-ms', '500'],
    }));
    const writer = cleanup.stops(await FuseMount.start(cluster.masterAddress));
    const hash = createHash('sha256');
    const fh = await open(writer.path('big'), 'w');
    let victim = -1;
    try {
      const piece = 4 * MiB;
      for (let at = 0; at < SIZE; at += piece) {
        const data = randomBytes(piece);
        hash.update(data);
        await fh.write(data, 0, piece, at);
        if (victim < 0 && at >= 150 * MiB) {
          victim = 1;
          await cluster.chunkservers[victim]!.process.kill();
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    const want = hash.digest('hex');
    const reader = cleanup.stops(await FuseMount.start(cluster.masterAddress));
    expect(await sha256File(reader.path('big'))).toBe(want);

    const chunks = Math.ceil(SIZE / (64 * MiB));
    const st = await waitFor('every chunk back at two live replicas', async () => {
      const s = await adminStatus(cluster.masterAddress);
      return s.chunks === chunks && s.health.healthy === chunks && s.health.underReplicated === 0 && s.health.missing === 0 ? s : undefined;
    }, 120_000, 1_000);
    const dead = st.servers.find((s) => s.state === 'dead');
    expect(dead?.address).toBe(cluster.chunkservers[victim]!.process.address);
    // Every replica is on one of the two live servers: 2 per chunk, one each.
    const live = st.servers.filter((s) => s.state === 'alive');
    expect(live.map((s) => s.chunks)).toEqual([chunks, chunks]);
  });
});
