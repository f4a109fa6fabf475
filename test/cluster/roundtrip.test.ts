/**
 * The core bar through the real CLIs and real processes: a 200 MiB random file (4 chunks)
 * round-trips byte for byte; every chunk has 2 replicas on 2 different chunkservers, seen both in
 * `fstadmin status --json` and on disk; the status counts the data the chunkservers wrote and read
 * (as their heartbeats report it, the daemons running without metrics) and the calls the master
 * answered; metadata survives a master restart between write and read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminStatus, runCli, type StatusJson } from '../helpers/cli.js';
import { chunkIdsOnDisk, sha256File, writeRandomFile } from '../helpers/files.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;

/** The chunkservers' data RPC counters, summed over every server in a status answer. */
function ioTotals(st: StatusJson): { reads: number; writes: number; bytesRead: number; bytesWritten: number } {
  const t = { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 };
  for (const s of st.servers) {
    t.reads += s.reads;
    t.writes += s.writes;
    t.bytesRead += s.bytesRead;
    t.bytesWritten += s.bytesWritten;
  }
  return t;
}

describe('200 MiB round trip through fst put/get', () => {
  let cluster: ProcessCluster;
  let local: string;
  let digest: string;

  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    local = await mkdtemp(join(tmpdir(), 'fst-local-'));
    digest = await writeRandomFile(join(local, 'big.bin'), 200 * MiB);
  });
  afterAll(async () => {
    await cluster?.stop();
    if (local) await rm(local, { recursive: true, force: true });
  });

  const fst = (...args: string[]) => runCli('fst', ['--master', cluster.masterAddress, ...args]);

  it('puts and gets the file with the same sha256', async () => {
    expect((await fst('mkdir', '/data')).code).toBe(0);
    const put = await fst('put', join(local, 'big.bin'), '/data/big.bin');
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    const get = await fst('get', '/data/big.bin', join(local, 'back.bin'));
    expect(get.code).toBe(0);
    expect(await sha256File(join(local, 'back.bin'))).toBe(digest);
    const ls = await fst('ls', '-l', '/data');
    expect(ls.stdout).toMatch(new RegExp(`${200 * MiB}\\s+\\S+\\s+\\S+\\s+big\\.bin`));
  });

  it('keeps every chunk on 2 different chunkservers (status and disk agree)', async () => {
    const st = await adminStatus(cluster.masterAddress);
    expect(st.chunks).toBe(4);
    expect(st.health).toMatchObject({ healthy: 4, underReplicated: 0, missing: 0, stale: 0 });
    expect(st.servers.reduce((n, s) => n + s.chunks, 0)).toBe(8);
    const holders = new Map<number, number[]>();
    for (const cs of cluster.chunkservers) {
      for (const id of await chunkIdsOnDisk(cs.dataDir)) holders.set(id, [...(holders.get(id) ?? []), cs.index]);
    }
    expect(holders.size).toBe(4);
    for (const [id, servers] of holders) {
      expect(servers, `chunk ${id}`).toHaveLength(2);
      expect(new Set(servers).size, `chunk ${id}`).toBe(2);
    }
    // The status view per server matches what lies on its disk.
    for (const cs of cluster.chunkservers) {
      const onDisk = (await chunkIdsOnDisk(cs.dataDir)).length;
      const row = st.servers.find((s) => s.address === cs.process.address);
      expect(row?.chunks, cs.process.address).toBe(onDisk);
    }
  });

  it("counts the chunkservers' reads and writes and the master's calls in status --json", async () => {
    // A baseline that covers all earlier traffic: every server has beaten since this test began.
    const t0 = Date.now();
    const before = await waitFor('a heartbeat of every server after the test began', async () => {
      const st = await adminStatus(cluster.masterAddress);
      return st.servers.length === 3 && st.servers.every((s) => s.lastHeartbeatMs > t0) ? st : undefined;
    });
    const size = 3 * MiB + 12_345;
    const digest = await writeRandomFile(join(local, 'small.bin'), size);
    expect((await fst('put', join(local, 'small.bin'), '/data/small.bin')).code).toBe(0);
    const get = await fst('get', '/data/small.bin', join(local, 'small-back.bin'));
    expect(get.code).toBe(0);
    expect(await sha256File(join(local, 'small-back.bin'))).toBe(digest);

    // Replication 2: every byte is written by the primary and by the next replica of its chain.
    const was = ioTotals(before);
    const after = await waitFor('the put and the get in the servers\' counters', async () => {
      const st = await adminStatus(cluster.masterAddress);
      const now = ioTotals(st);
      const grown = now.writes - was.writes >= 2 && now.bytesWritten - was.bytesWritten >= 2 * size &&
        now.reads - was.reads >= 1 && now.bytesRead - was.bytesRead >= size;
      if (!grown) throw new Error(`before ${JSON.stringify(was)}, now ${JSON.stringify(now)}`);
      return st;
    });
    // Nothing else moved data meanwhile: the growth is this file's, not another test's.
    expect(ioTotals(after).bytesWritten - was.bytesWritten).toBeLessThan(3 * size);
    expect(after.masterCalls).toBeGreaterThan(before.masterCalls);
    expect(after.nowMs).toBeGreaterThan(before.nowMs);
    // Each status call is one more call answered by the time of the next.
    const again = await adminStatus(cluster.masterAddress);
    expect(again.masterCalls).toBeGreaterThan(after.masterCalls);
    expect(again.nowMs).toBeGreaterThanOrEqual(after.nowMs);
  });

  it('reads the same bytes after the master restarts (SIGTERM, then kill -9)', async () => {
    for (const how of ['term', 'kill'] as const) {
      await cluster.restartMaster(how);
      await cluster.waitForChunkservers(3);
      const out = join(local, `after-${how}.bin`);
      const get = await fst('get', '/data/big.bin', out);
      expect(get.stderr).toBe('');
      expect(await sha256File(out)).toBe(digest);
      await rm(out);
    }
  });
});
