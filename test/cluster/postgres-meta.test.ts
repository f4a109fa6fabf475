/**
 * A real fst-master on PostgreSQL (`--meta postgres://...`) with 3 chunkservers: files of several
 * sizes (empty, inline, one chunk, across a chunk boundary) written and read back by sha256
 * through FstClient, a rename, a listing, the cluster status (engine postgres), replicas listed
 * to readers in the same order as on SQLite whatever order PostgreSQL keeps the rows in, and a
 * master restart: the namespace comes back from PostgreSQL, the identity (tls/) from --data.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pgClient from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { adminStatus } from '../helpers/cli.js';
import { loadCredentialsFor } from '../helpers/credentials.js';
import { sha256 } from '../helpers/files.js';
import { PgCluster } from '../helpers/postgres.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;
const SIZES = [0, 1000, 200_000, 3 * MiB, 64 * MiB + 12_345];

describe('fst-master on PostgreSQL metadata', () => {
  let pg: PgCluster | undefined;
  let meta: string;
  let cluster: ProcessCluster | undefined;
  const digests = new Map<string, string>();
  const client = async (): Promise<FstClient> => new FstClient({ credentials: await loadCredentialsFor(cluster!.masterAddress), master: cluster!.masterAddress });

  beforeAll(async () => {
    pg = await PgCluster.start();
    meta = await pg.createDatabase();
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--meta', meta] });
  });
  afterAll(async () => {
    try {
      await cluster?.stop();
    } finally {
      await pg?.stop();
    }
  });

  it('writes and reads files of several sizes, renames and lists', async () => {
    const c = await client();
    try {
      await c.mkdir('/data');
      for (const size of SIZES) {
        const bytes = randomBytes(size);
        await c.writeFile(`/data/f${size}`, bytes);
        digests.set(`f${size}`, sha256(bytes));
      }
      for (const size of SIZES) expect(sha256(await c.readFile(`/data/f${size}`)), `f${size}`).toBe(digests.get(`f${size}`));
      await c.rename('/data/f1000', '/data/renamed');
      digests.set('renamed', digests.get('f1000')!);
      digests.delete('f1000');
      const names = (await c.readdir('/data')).map((e) => e.name);
      expect(names).toEqual([...digests.keys()].sort());
      expect((await c.stat(`/data/f${64 * MiB + 12_345}`)).size).toBe(64 * MiB + 12_345);
    } finally {
      await c.close();
    }
    const st = await adminStatus(cluster!.masterAddress);
    expect(st.chunks).toBe(4); // 200 KB and 3 MiB: one each; 64 MiB + 12 KB: two (1000 B inline, 0 B none)
    expect(st.health).toMatchObject({ healthy: 4, underReplicated: 0, missing: 0 });
    expect(st.engine).toBe('postgres');
  });

  it('lists the replicas of a chunk by server id among equal loads, whatever order PostgreSQL keeps the rows in', async () => {
    const db = new pgClient.Client({ connectionString: meta });
    await db.connect();
    let c: FstClient | undefined;
    try {
      const ino = (await db.query<{ ino: string }>("SELECT ino FROM dentries WHERE name = $1", [`f${3 * MiB}`])).rows.map((r) => Number(r.ino))[0]!;
      const holders = (await db.query<{ server_id: string }>('SELECT r.server_id FROM replicas r JOIN chunks c ON c.chunk_id = r.chunk_id WHERE c.ino = $1 ORDER BY r.server_id', [ino]))
        .rows.map((r) => Number(r.server_id));
      expect(holders).toHaveLength(2);
      // A row rewritten unchanged goes after the others in PostgreSQL's table: the lowest id's
      // replica rows now come last in a scan (SQLite keeps them in primary-key order). The master's
      // plans are made to scan tables (no index gives rows in key order, as the planner may choose
      // once the tables grow): its connections after a restart take the database's settings.
      await db.query('UPDATE replicas SET version = version WHERE server_id = $1', [holders[0]]);
      const database = new URL(meta).pathname.slice(1);
      await db.query(`ALTER DATABASE ${database} SET enable_indexscan = off`);
      await db.query(`ALTER DATABASE ${database} SET enable_bitmapscan = off`);
      await db.query(`ALTER DATABASE ${database} SET enable_indexonlyscan = off`);
      await cluster!.restartMaster();
      await cluster!.waitForChunkservers(3);
      c = await client();
      const located = c;
      // Loads move while data flows (then the less loaded server comes first): wait for them to settle.
      await waitFor('the replicas listed by server id', async () => {
        const { chunks } = await located.meta.locateChunks(ino, 0, 1);
        const listed = chunks[0]?.replicas.map((r) => r.serverId) ?? [];
        if (listed.join() !== holders.join()) throw new Error(`listed ${listed.join()}`);
        return true;
      }, 30_000, 250);
    } finally {
      await c?.close();
      // The next start of the master plans as usual.
      await db.query(`ALTER DATABASE ${new URL(meta).pathname.slice(1)} RESET ALL`).catch(() => undefined);
      await db.end();
    }
  });

  it('keeps the namespace across a master restart', async () => {
    await cluster!.restartMaster();
    await cluster!.waitForChunkservers(3);
    const c = await client();
    try {
      expect((await c.readdir('/data')).map((e) => e.name)).toEqual([...digests.keys()].sort());
      for (const [name, digest] of digests) expect(sha256(await c.readFile(`/data/${name}`)), name).toBe(digest);
      await c.writeFile('/data/after-restart', 'hello');
      expect((await c.readFile('/data/after-restart')).toString()).toBe('hello');
    } finally {
      await c.close();
    }
    // The namespace is in PostgreSQL, none in --data (which keeps the identity).
    expect(existsSync(join(cluster!.masterDataDir, 'meta.sqlite3'))).toBe(false);
    expect(existsSync(join(cluster!.masterDataDir, 'tls'))).toBe(true);
    const db = new pgClient.Client({ connectionString: meta });
    await db.connect();
    try {
      const names = (await db.query<{ name: string }>("SELECT d.name FROM dentries d JOIN dentries p ON p.ino = d.parent WHERE p.name = 'data' ORDER BY d.name")).rows.map((r) => r.name);
      expect(names).toEqual([...digests.keys(), 'after-restart'].sort());
    } finally {
      await db.end();
    }
  });
});
