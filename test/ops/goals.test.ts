/**
 * fstadmin goal, du, df and gc against real processes: goal changes 2 -> 3 -> 2 reach the replicas
 * (rows and chunk files on the servers' disks), new files inherit their directory's goal, the
 * data stays intact, and bad input gets clear errors.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { Cleanup } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { chunkIdsOnDisk, sha256 } from '../helpers/files.js';
import { openDb } from '../helpers/master-db.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { chunkReplicas } from '../helpers/replica-counts.js';
import { loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;

/** How many servers hold each chunk file on disk, by chunk id. */
async function copiesOnDisk(cluster: ProcessCluster): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const cs of cluster.chunkservers) for (const id of await chunkIdsOnDisk(cs.dataDir)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

describe('fstadmin goal', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('changes 2 -> 3 -> 2 take effect on the replicas; new files inherit; du, df and gc report', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--replication-interval-ms', '300', '--lease-ms', '1000'] }));
    const master = cluster.masterAddress;
    const admin = (...args: string[]) => runCli('fstadmin', ['--master', master, ...args]);
    const client = new FstClient({ credentials: await loadCredentialsFor(master), master });
    cleanup.add(() => client.close());
    await client.connect();
    await client.mkdir('/d');
    const want = new Map<string, string>();
    for (const [name, size] of [['a', 5 * MiB], ['b', 70 * MiB], ['c', 100_000]] as const) {
      const data = randomBytes(size);
      await client.writeFile(`/d/${name}`, data);
      want.set(`/d/${name}`, sha256(data));
    }
    const db = await openDb(cluster);
    cleanup.add(() => db.close());
    const chunksOf = async (prefix: string) => {
      const inos = new Set<number>();
      for (const p of want.keys()) if (p.startsWith(prefix)) inos.add((await client.stat(p)).ino);
      const rows = await db.all<{ chunk_id: number }>(`SELECT chunk_id FROM chunks WHERE ino IN (${[...inos].join(',')})`);
      return rows.map((r) => r.chunk_id);
    };
    const ids = await chunksOf('/d/');
    expect(ids).toHaveLength(4); // a, b (two chunks), c
    const replicasAre = (n: number) => async () => {
      const rows = (await chunkReplicas(db)).filter((c) => ids.includes(c.chunkId));
      const disk = await copiesOnDisk(cluster);
      return rows.every((c) => c.current === n) && ids.every((id) => disk.get(id) === n) ? true : undefined;
    };

    const got = await admin('goal', 'get', '/d/a');
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toContain('/d/a: 2');

    const up = await admin('goal', 'set', '/d', '3', '-r');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/goal 3 \(4 changed, 0 unchanged\)/);
    await waitFor('3 replicas of every chunk', replicasAre(3), 60_000, 250);
    const tree = await admin('goal', 'get', '/d', '-r', '--json');
    expect(JSON.parse(tree.stdout)).toMatchObject({ goal: 3, directory: true, tree: [{ goal: 3, files: 3, directories: 1 }] });

    // A file created in /d now inherits goal 3 and is written to three servers at once.
    await client.writeFile('/d/new', randomBytes(MiB));
    const newChunk = (await db.all<{ chunk_id: number }>('SELECT chunk_id FROM chunks WHERE ino = ?', [(await client.stat('/d/new')).ino]))[0]!;
    expect((await chunkReplicas(db)).find((c) => c.chunkId === newChunk.chunk_id)?.current).toBe(3);

    const down = await admin('goal', 'set', '/d', '2', '-r');
    expect(down.code, down.stderr).toBe(0);
    await waitFor('2 replicas of every chunk again (surplus deleted from disk too)', replicasAre(2), 60_000, 250);
    for (const [path, hash] of want) expect(sha256(await client.readFile(path)), path).toBe(hash);
    want.delete('/d/b');

    // du: logical bytes of the tree and what its replicas take.
    const du = await admin('du', '/d', '--json');
    expect(du.code, du.stderr).toBe(0);
    const usage = JSON.parse(du.stdout) as { files: number; directories: number; logicalBytes: number; storedBytes: number; chunks: number };
    const logical = 5 * MiB + 70 * MiB + 100_000 + MiB;
    expect(usage).toMatchObject({ files: 4, directories: 1, logicalBytes: logical, chunks: 5 });
    await waitFor('new file at goal 2', async () => ((await admin('du', '/d', '--json')).stdout.includes(`"storedBytes": ${2 * logical}`) ? true : undefined));

    const df = await admin('df');
    expect(df.code, df.stderr).toBe(0);
    expect(df.stdout).toContain('total (live)');
    for (const cs of cluster.chunkservers) expect(df.stdout).toContain(cs.process.address);

    // gc: deleted files' chunks leave every server's disk.
    const bIds = (await db.all<{ chunk_id: number }>('SELECT chunk_id FROM chunks WHERE ino = ?', [(await client.stat('/d/b')).ino])).map((r) => r.chunk_id);
    expect(bIds).toHaveLength(2);
    await client.unlink('/d/b');
    const gc = await admin('gc', '--json');
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({ chunksPending: 0 });
    const disk = await copiesOnDisk(cluster);
    for (const id of bIds) expect(disk.has(id), `chunk ${id} still on a disk`).toBe(false);
    expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM deleted_chunks'))?.n).toBe(0);

    // Bad input: clear errors, right exit codes, nothing changed.
    const missing = await admin('goal', 'set', '/nope', '2');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file or directory: \/nope.*ENOENT/);
    for (const bad of ['0', '17', 'two']) {
      const r = await admin('goal', 'set', '/d', bad);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain(`invalid goal '${bad}'`);
    }
    const relative = await admin('goal', 'get', 'd');
    expect(relative.code).toBe(1);
    expect(relative.stderr).toContain('must be absolute');
    expect((await admin('goal', 'get', '/d')).stdout).toContain('/d: 2');
  });
});
