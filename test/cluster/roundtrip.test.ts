/**
 * The core bar through the real CLIs and real processes: a 200 MiB random file (4 chunks)
 * round-trips byte for byte; every chunk has 2 replicas on 2 different chunkservers, seen both in
 * `fstadmin status --json` and on disk; metadata survives a master restart between write and read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminStatus, runCli } from '../helpers/cli.js';
import { chunkIdsOnDisk, sha256File, writeRandomFile } from '../helpers/files.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;

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
