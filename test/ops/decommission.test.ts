/**
 * fstadmin decommission and forget against real processes: a chunkserver drains while a reader
 * keeps reading every file (no read fails), ends with nothing on its disk and every chunk at its
 * goal elsewhere, and is forgotten once stopped. Bad server names get clear errors.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { Cleanup } from '../helpers/cleanup.js';
import { adminStatus, runCli } from '../helpers/cli.js';
import { chunkIdsOnDisk, sha256 } from '../helpers/files.js';
import { openDb } from '../helpers/master-db.js';
import { waitFor, WAIT_MS } from '../helpers/probes.js';
import { startProcessCluster } from '../helpers/process-cluster.js';
import { chunkReplicas } from '../helpers/replica-counts.js';
import { loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;
const FILES = 24;

describe('fstadmin decommission', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('drains a server under a running read workload without a failed read, then forgets it', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 4, replication: 2, masterArgs: ['--replication-interval-ms', '300', '--lease-ms', '1000'] }));
    const master = cluster.masterAddress;
    const admin = (...args: string[]) => runCli('fstadmin', ['--master', master, ...args]);
    const writer = new FstClient({ credentials: await loadCredentialsFor(master), master });
    cleanup.add(() => writer.close());
    await writer.connect();
    const want = new Map<string, string>();
    for (let i = 0; i < FILES; i++) {
      const data = randomBytes(2 * MiB + (i % 3) * MiB + i);
      await writer.writeFile(`/f${i}`, data);
      want.set(`/f${i}`, sha256(data));
    }
    // The server holding the most chunks (placement weighs load, so any one server may hold few):
    // 48 replicas over 4 servers put at least 12 there.
    const held = await Promise.all(cluster.chunkservers.map(async (c) => ({ c, ids: await chunkIdsOnDisk(c.dataDir) })));
    const { c: victim, ids: before } = held.reduce((a, b) => (b.ids.length > a.ids.length ? b : a));
    expect(before.length).toBeGreaterThan(4);

    // The read workload: a client of its own (no shared cache: every read goes to the servers).
    const reader = new FstClient({ credentials: await loadCredentialsFor(master), master });
    cleanup.add(() => reader.close());
    await reader.connect();
    const paths = [...want.keys()];
    const failures: string[] = [];
    let reads = 0;
    let reading = true;
    const workload = (async () => {
      for (let i = 0; reading; i++) {
        const path = paths[i % paths.length]!;
        try {
          const got = sha256(await reader.readFile(path));
          if (got !== want.get(path)) failures.push(`${path}: wrong bytes`);
          reads++;
        } catch (e) {
          failures.push(`${path}: ${(e as Error).message}`);
        }
      }
    })();
    cleanup.add(async () => {
      reading = false;
      await workload;
    });
    await waitFor('the reader under way', () => reads >= 5);

    const drained = await admin('decommission', victim.process.address, '--wait', '--json');
    expect(drained.code, drained.stderr).toBe(0);
    const readsDuringDrain = reads;
    // Keep reading after the drain: every file once more.
    await waitFor('every file read again after the drain', () => reads >= readsDuringDrain + FILES || failures.length > 0);
    reading = false;
    await workload;
    expect(failures).toEqual([]);
    expect(readsDuringDrain).toBeGreaterThan(FILES);

    const status = await adminStatus(master);
    const row = status.servers.find((s) => s.address === victim.process.address)!;
    expect(row).toMatchObject({ state: 'alive', decommission: 'drained', chunks: 0 });
    expect(status.health).toMatchObject({ underReplicated: 0, missing: 0 });
    expect(await chunkIdsOnDisk(victim.dataDir)).toEqual([]);
    const db = await openDb(cluster);
    cleanup.add(() => db.close());
    for (const c of await chunkReplicas(db)) {
      expect(c.current, `chunk ${c.chunkId}`).toBe(2);
      expect(c.servers).not.toContain(row.serverId);
    }
    // New files go elsewhere while it stays decommissioned.
    await writer.writeFile('/after', randomBytes(MiB));
    expect(await chunkIdsOnDisk(victim.dataDir)).toEqual([]);

    // Forget: refused while a server is alive, done once it is stopped.
    const alive = await admin('forget', victim.process.address);
    expect(alive.code).toBe(1);
    expect(alive.stderr).toContain('is alive');
    await victim.process.stop();
    await waitFor('the drained server dead', async () => (await adminStatus(master)).servers.find((s) => s.address === victim.process.address)?.state === 'dead', WAIT_MS, 250);
    const forgot = await admin('forget', victim.process.address);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect((await adminStatus(master)).servers.map((s) => s.address)).not.toContain(victim.process.address);
    for (const [path, hash] of want) expect(sha256(await writer.readFile(path)), path).toBe(hash);

    const unknown = await admin('decommission', '10.9.9.9:1');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no chunkserver "10\.9\.9\.9:1".*ENOENT/);
  }, 600_000); // 26 s on an idle machine, 160 s on two busy cores
});
