/**
 * Bit rot on a chunkserver's disk, through the mount: one byte flipped inside a chunk file.
 * - Read: the file still reads back right (the mount moves on to the other replica), the
 *   chunkserver quarantines its copy and reports it, and the master copies a healthy one back.
 * - Nobody reads: the chunkservers' scrubber finds it, with the same outcome.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { adminStatus } from '../helpers/cli.js';
import { chunkIdsOnDisk } from '../helpers/files.js';
import { Cleanup } from '../helpers/cleanup.js';
import { FuseMount } from '../helpers/fuse-mount.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;

async function flipByte(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0x5a;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

describe('a corrupt replica', () => {
  let cluster: ProcessCluster | undefined;
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  async function setup(chunkserverArgs: string[]): Promise<{ data: Buffer; chunkId: number; bad: string }> {
    cluster = cleanup.stops(await startProcessCluster({
      chunkservers: 2, replication: 2, chunkserverArgs: () => chunkserverArgs,
      masterArgs: ['--lease-ms', '2000', '--replication-interval-ms', '300'],
    }));
    const m = cleanup.stops(await FuseMount.start(cluster.masterAddress));
    const data = randomBytes(6 * MiB);
    await writeFile(m.path('rot'), data);
    // Both chunkservers hold the file's one chunk: corrupt the first one's copy.
    const [chunkId] = await chunkIdsOnDisk(cluster.chunkservers[0]!.dataDir);
    expect(chunkId).toBeDefined();
    expect(await chunkIdsOnDisk(cluster.chunkservers[1]!.dataDir)).toContain(chunkId);
    const bad = chunkPaths(cluster.chunkservers[0]!.dataDir, chunkId!).data;
    return { data, chunkId: chunkId!, bad };
  }

  async function replaced(chunkId: number, bad: string): Promise<void> {
    const st = await waitFor('the corrupt replica reported and replaced', async () => {
      const s = await adminStatus(cluster!.masterAddress);
      return s.health.corruptReported >= 1 && s.health.healthy === 1 && s.replication.copied >= 1 ? s : undefined;
    }, 60_000, 300);
    expect(st.health.underReplicated).toBe(0);
    // Quarantined for inspection, and a good copy installed in its place.
    expect((await readFile(`${bad}.corrupt`)).length).toBeGreaterThan(0);
    expect(await chunkIdsOnDisk(cluster!.chunkservers[0]!.dataDir)).toContain(chunkId);
  }

  it('is read around, reported and replaced', async () => {
    const { data, chunkId, bad } = await setup(['--scrub-rate-mib', '0']);
    await flipByte(bad, 2 * MiB + 123);
    // Fresh mounts (no cache) read the file until one has met the corrupt copy (the master lists
    // replicas in load order, so which one comes first varies): the bytes are right every time.
    for (let i = 0; i < 12; i++) {
      const reader = cleanup.stops(await FuseMount.start(cluster!.masterAddress));
      expect((await readFile(reader.path('rot'))).equals(data)).toBe(true);
      await reader.stop();
      if ((await adminStatus(cluster!.masterAddress)).health.corruptReported >= 1) break;
    }
    await replaced(chunkId, bad);
    const last = cleanup.stops(await FuseMount.start(cluster!.masterAddress));
    expect((await readFile(last.path('rot'))).equals(data)).toBe(true);
  });

  it('is found by the scrubber when nobody reads it', async () => {
    const { data, chunkId, bad } = await setup(['--scrub-rate-mib', '64', '--scrub-interval-ms', '200']);
    await flipByte(bad, 5 * MiB + 7);
    await replaced(chunkId, bad);
    const reader = cleanup.stops(await FuseMount.start(cluster!.masterAddress));
    expect((await readFile(reader.path('rot'))).equals(data)).toBe(true);
  });
});
