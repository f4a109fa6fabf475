/**
 * The PostgreSQL engine's working copy (db/pg-working-copy.ts) on a real PostgreSQL: whatever the
 * namespace does, PostgreSQL's tables end up row for row as the copy's once the mutations are
 * acknowledged (names and values that need escaping included); a new open loads them, with the
 * id counters moved on; and when PostgreSQL cannot take a transaction (its connection ended, its
 * server silent, a COMMIT answer lost), the mutations waiting are refused as unavailable, the
 * owner is told once, and what was acknowledged is in PostgreSQL for the next open.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MasterDb } from '../../src/master/db/database.js';
import { MetaUnavailableError } from '../../src/master/db/pg-errors.js';
import { COUNTER_GAP } from '../../src/master/db/pg-working-copy.js';
import { PG_TYPES } from '../../src/master/db/postgres-types.js';
import { Namespace } from '../../src/master/tree/namespace.js';
import { fst } from '../../src/proto-gen/fst.js';
import { Cleanup } from '../helpers/cleanup.js';
import { usePostgres, type PgCluster } from '../helpers/postgres.js';
import { closedPort, waitFor } from '../helpers/probes.js';

const postgres = usePostgres();
const ROOT = 1;
/** Every table of the metadata, with the columns that order its rows. */
const TABLES: [string, string][] = [
  ['inodes', 'ino'], ['dentries', 'parent, name'], ['chunks', 'ino, idx'], ['replicas', 'chunk_id, server_id'],
  ['chunkservers', 'id'], ['xattrs', 'ino, name'], ['deleted_chunks', 'chunk_id'], ['leases', 'chunk_id'],
  ['settings', 'name'], ['foreign_chunks', 'chunk_id'], ['counters', 'name'], ['orphans', 'ino'],
  ['inline_data', 'ino'], ['credentials', 'serial'],
];

async function admin(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

/** Every row of every table as JSON text (bytes as hex), from PostgreSQL or from the copy's reader. */
async function tablesOf(read: (sql: string) => Promise<Record<string, unknown>[]>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [t, order] of TABLES) {
    const rows = await read(`SELECT * FROM ${t} ORDER BY ${order}`);
    out[t] = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v)));
  }
  return out;
}

async function pgTables(url: string): Promise<Record<string, string[]>> {
  const c = new pg.Client({ connectionString: url, types: PG_TYPES });
  await c.connect();
  try {
    return await tablesOf(async (sql) => (await c.query(sql)).rows as Record<string, unknown>[]);
  } finally {
    await c.end();
  }
}

const copyTables = (db: MasterDb): Promise<Record<string, string[]>> => tablesOf((sql) => db.reader.all(sql));

/** How `p` fails: 'MetaUnavailableError' for the retryable failure, else what it is. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof MetaUnavailableError ? 'MetaUnavailableError' : String(e);
  }
  return 'no error';
}

/** Ends the master's write-behind connection to `url`'s database (`where`: which of its states). */
async function terminateWriter(cluster: PgCluster, url: string, where = ''): Promise<number> {
  const r = await admin(cluster.url(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'fst-master' ${where}`, [new URL(url).pathname.slice(1)]);
  return r.rowCount ?? 0;
}

/** The master's write-behind backends on `url`'s database waiting for a synchronous standby. */
async function heldByStandby(cluster: PgCluster, url: string): Promise<number> {
  const r = await admin(cluster.url(), "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'fst-master' AND wait_event = 'SyncRep'", [new URL(url).pathname.slice(1)]);
  return r.rowCount ?? 0;
}

/**
 * Runs `op` (ending in a durable mutation) until one run's COMMIT waits for the synchronous standby,
 * and answers that run's promise, still pending (wrapped, so that awaiting the answer does not await it): a backend rereads its configuration between two queries, so
 * the one it is reading when told may still commit with the old.
 */
async function untilHeldByStandby(cluster: PgCluster, url: string, op: () => Promise<unknown>): Promise<{ pending: Promise<unknown> }> {
  return waitFor('a durable COMMIT waiting for the standby', async () => {
    let ended = false;
    const pending = op().finally(() => (ended = true));
    void pending.catch(() => undefined);
    const state = await waitFor('the durable mutation to end or to wait for the standby', async () => (ended ? 'ended' : (await heldByStandby(cluster, url)) > 0 ? 'held' : undefined), 30_000, 20);
    return state === 'held' ? { pending } : undefined;
  });
}

describe('PostgreSQL engine: the working copy and its write-behind', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /** A MasterDb on a fresh database (reached through `hosts` first), with its failures counted. */
  async function open(url?: string, hosts: string[] = [], answerTimeoutMs?: number): Promise<{ db: MasterDb; ns: Namespace; url: string; failures: Error[] }> {
    const cluster = postgres.get();
    if (!url) {
      url = await cluster.createDatabase();
      const made = url;
      cleanup.add(() => cluster.dropDatabase(made));
    }
    const dataDir = await mkdtemp(join(tmpdir(), 'fst-pgcopy-'));
    cleanup.add(() => rm(dataDir, { recursive: true, force: true }));
    const u = new URL(url);
    const meta = `postgres://fst@${[...hosts, u.host].join(',')}${u.pathname}?target_session_attrs=read-write`;
    const { PgWorkingCopyEngine } = await import('../../src/master/db/pg-working-copy.js');
    const db = MasterDb.on(await PgWorkingCopyEngine.open({ url: meta, dataDir, defaultReplication: 2, answerTimeoutMs }));
    cleanup.add(() => db.close().catch(() => undefined));
    const failures: Error[] = [];
    db.engine.onFailed?.((e) => failures.push(e));
    return { db, ns: new Namespace(db), url, failures };
  }

  it('leaves PostgreSQL row for row as the copy once mutations are acknowledged, and loads it back', async () => {
    const { db, ns, url } = await open();
    const odd = ["it's", 'back\\slash', 'new\nline', 'ünïcødé ✓', "'; DROP TABLE inodes; --", 'E\'x\'', '\\x41'];
    const dir = (await ns.mkdir(ROOT, 'd', 0o755)).attr.ino!;
    const files: number[] = [];
    for (const name of odd) files.push((await ns.mknod(dir, name, fst.FileType.REGULAR, 0o644, 0)).attr.ino!);
    await ns.setxattr(files[0]!, 'user.bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    await ns.setxattr(files[1]!, "user.quote'\\", Buffer.from("'\\x00"));
    await ns.symlink(dir, 'link', "target with 'quotes' and \\");
    // In one group: a rename over an existing name, a removal and a re-creation of the same name.
    await Promise.all([
      ns.rename(dir, odd[2]!, dir, odd[3]!),
      ns.unlink(dir, odd[4]!).then(() => ns.mknod(dir, odd[4]!, fst.FileType.REGULAR, 0o600, 0)),
      ns.mkdir(dir, 'e', 0o700).then(() => ns.rmdir(dir, 'e')),
    ]);
    await ns.writeInline({ ino: files[5]!, data: Buffer.from([0, 1, 2, 255, 39, 92]), maxBytes: 4096 });
    const copy = await copyTables(db);
    expect(copy.dentries!.length).toBeGreaterThan(odd.length);
    expect(await pgTables(url)).toEqual(copy);

    await db.close();
    const again = await open(url);
    const loaded = await copyTables(again.db);
    const counter = (t: Record<string, string[]>, name: string): number => (JSON.parse(t.counters!.find((r) => r.includes(`"${name}"`))!) as { value: number }).value;
    expect(counter(loaded, 'next_ino')).toBe(counter(copy, 'next_ino') + COUNTER_GAP);
    expect(counter(loaded, 'next_chunk_id')).toBe(counter(copy, 'next_chunk_id') + COUNTER_GAP);
    expect({ ...loaded, counters: [] }).toEqual({ ...copy, counters: [] });
    expect(await pgTables(url)).toEqual(loaded);
    // A file made now gets a number past the gap, never one a lost commit could have handed out.
    const f = (await again.ns.mknod(ROOT, 'after', fst.FileType.REGULAR, 0o644, 0)).attr.ino!;
    expect(f).toBeGreaterThanOrEqual(counter(copy, 'next_ino') + COUNTER_GAP);
  });

  it('refuses what waits once its connection is ended, tells its owner once, and keeps what it acknowledged', async () => {
    const cluster = postgres.get();
    const { ns, url, failures } = await open(undefined, [`127.0.0.1:${await closedPort()}`]);
    for (let i = 0; i < 20; i++) await ns.mknod(ROOT, `kept${i}`, fst.FileType.REGULAR, 0o644, 0);
    expect(await terminateWriter(cluster, url)).toBe(1);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => failure(ns.mknod(ROOT, `lost${i}`, fst.FileType.REGULAR, 0o644, 0))));
    expect(after).toEqual(Array.from({ length: 10 }, () => 'MetaUnavailableError'));
    const later = await ns.mkdir(ROOT, 'later', 0o755).then(() => undefined, (e: unknown) => e);
    expect(later, 'and every mutation after').toBeInstanceOf(MetaUnavailableError);
    expect((later as MetaUnavailableError).maybeApplied, 'never sent: certainly not applied').toBe(false);
    expect(failures).toHaveLength(1);
    const names = (await admin(url, 'SELECT name FROM dentries WHERE parent = 1 ORDER BY name')).rows.map((r: { name: string }) => r.name);
    expect(names).toEqual(Array.from({ length: 20 }, (_, i) => `kept${i}`).sort());
  });

  it('does not open on a server that takes no writes, and opens once it does', async () => {
    const cluster = postgres.get();
    const url = await cluster.createDatabase();
    cleanup.add(() => cluster.dropDatabase(url));
    const db = new URL(url).pathname.slice(1);
    await admin(cluster.url(), `ALTER DATABASE ${db} SET default_transaction_read_only = on`);
    cleanup.add(() => admin(cluster.url(), `ALTER DATABASE ${db} RESET default_transaction_read_only`));
    expect(await failure(open(url))).toBe('MetaUnavailableError');
    await admin(cluster.url(), `ALTER DATABASE ${db} RESET default_transaction_read_only`);
    const { ns } = await open(url);
    expect((await ns.mkdir(ROOT, 'writable', 0o755)).attr.ino).toBeGreaterThan(1);
  });

  it('fails on a server that stops answering, after the answer timeout', async () => {
    const cluster = postgres.get();
    const { ns, url, failures } = await open(undefined, [], 2000);
    await ns.mkdir(ROOT, 'before', 0o755);
    const [pid] = (await admin(cluster.url(), "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'fst-master'", [new URL(url).pathname.slice(1)])).rows.map((r: { pid: number }) => r.pid);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGSTOP'); // the backend keeps its socket open and answers nothing
    cleanup.add(async () => {
      process.kill(pid!, 'SIGCONT');
      await admin(cluster.url(), 'SELECT pg_terminate_backend($1)', [pid]);
    });
    expect(await failure(ns.mkdir(ROOT, 'after', 0o755))).toBe('MetaUnavailableError');
    expect(failures).toHaveLength(1);
  });

  it('does not acknowledge a mutation whose COMMIT answer was lost; the next open has it when it committed', async () => {
    const cluster = postgres.get();
    const { ns, url, failures } = await open();
    // A synchronous standby that never comes: a durable COMMIT writes its record, then waits for it.
    await admin(cluster.url(), "ALTER SYSTEM SET synchronous_standby_names = 'nobody_standby'");
    cleanup.add(async () => {
      await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
      await admin(cluster.url(), 'SELECT pg_reload_conf()');
    });
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    let ino = 0;
    const { pending: written } = await untilHeldByStandby(cluster, url, async () => {
      ino = (await ns.mknod(ROOT, `held${Date.now()}`, fst.FileType.REGULAR, 0o644, 0)).attr.ino!; // not durable: no wait
      return ns.writeInline({ ino, data: Buffer.from('held data'), maxBytes: 4096 }, true);
    });
    expect(await terminateWriter(cluster, url, "AND wait_event = 'SyncRep'")).toBe(1);
    const lost = await written.then(() => undefined, (e: unknown) => e);
    expect(lost, 'its outcome unknown to the master: not acknowledged').toBeInstanceOf(MetaUnavailableError);
    expect((lost as MetaUnavailableError).maybeApplied, 'and answered as maybe applied, so that a retry may find it done').toBe(true);
    expect(failures).toHaveLength(1);
    await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    const again = await open(url);
    expect(Number((await again.ns.getattr(ino)).size), 'committed locally before the wait: loaded').toBe(9);
  });

  it('makes everything before it durable for a mutation that changes nothing (fsync)', async () => {
    const cluster = postgres.get();
    const { ns, url } = await open();
    await ns.mkdir(ROOT, 'quick', 0o755);
    await admin(cluster.url(), "ALTER SYSTEM SET synchronous_standby_names = 'nobody_standby'");
    cleanup.add(async () => {
      await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
      await admin(cluster.url(), 'SELECT pg_reload_conf()');
    });
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    // An fsync with nothing of its own to write still waits for the (never coming) standby (were
    // it answered at once, no run would be held and this would time out)...
    const { pending: sync } = await untilHeldByStandby(cluster, url, async () => {
      await ns.mkdir(ROOT, `q${Date.now()}`, 0o755); // not durable: never waits
      return ns.syncMetadata();
    });
    // ...and returns once the standby is no longer asked for.
    await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    await sync;
  });
});
