/**
 * The PostgreSQL engine's writer and readers when their server goes away, on a real PostgreSQL:
 * hosts that do not answer or do not take writes are skipped; a connection the server ended is
 * replaced at the next transaction; while no server takes writes, writes and reads fail as
 * unavailable (MetaUnavailableError: UNAVAILABLE on the wire, which clients retry; EIO once they
 * give up) and succeed again when one does; and a COMMIT whose answer is lost is decided by
 * asking PostgreSQL what became of the transaction:
 * acknowledged when it committed (the server died while waiting for a synchronous standby), failed
 * as unavailable when it did not (the server died before the commit record). A server that stops
 * answering without closing the connection (SIGSTOP: what a network cut looks like) has the
 * connection dropped after the answer timeout.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { MasterDb } from '../../src/master/db/database.js';
import { MetaUnavailableError } from '../../src/master/db/pg-errors.js';
import { PostgresEngine } from '../../src/master/db/postgres.js';
import { Cleanup } from '../helpers/cleanup.js';
import { usePostgres, type PgCluster } from '../helpers/postgres.js';
import { closedPort, waitFor } from '../helpers/probes.js';

const postgres = usePostgres();

/** One statement as the superuser on `url`. */
async function admin(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

/** How `p` fails: 'MetaUnavailableError <errno>' for the retryable failure, else what it is. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof MetaUnavailableError ? `MetaUnavailableError ${e.code}` : String(e);
  }
  return 'no error';
}

/** The database name of a single-host URL. */
const dbName = (url: string): string => new URL(url).pathname.slice(1);

/** A MasterDb on a fresh database, opened through `hosts` (with the database's own host last). */
async function openDb(cluster: PgCluster, cleanup: Cleanup, hosts: string[] = [], answerTimeoutMs?: number): Promise<{ db: MasterDb; url: string }> {
  const url = await cluster.createDatabase();
  cleanup.add(() => cluster.dropDatabase(url));
  const multi = `postgres://fst@${[...hosts, `127.0.0.1:${cluster.port}`].join(',')}/${dbName(url)}?target_session_attrs=read-write`;
  const db = MasterDb.on(await PostgresEngine.open({ url: multi, defaultReplication: 2, answerTimeoutMs }));
  cleanup.add(() => db.close());
  return { db, url };
}

const bumpFiles = (db: MasterDb): Promise<unknown> => db.write((tx) => tx.run("UPDATE counters SET value = value + 1 WHERE name = 'files'"), { durable: true });
const files = async (db: MasterDb): Promise<number> => (await db.reader.get<{ value: number }>("SELECT value FROM counters WHERE name = 'files'"))!.value;

/** The PIDs of the master's writer backends on `url`'s database. */
async function writerBackends(cluster: PgCluster, url: string, where = ''): Promise<number[]> {
  const r = await admin(cluster.url(), `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'fst-master' ${where}`, [dbName(url)]);
  return r.rows.map((row: { pid: number }) => row.pid);
}

/** Ends the master's backends (writer and readers) on `url`'s database, as a dying server would. */
async function terminateMaster(cluster: PgCluster, url: string, where = ''): Promise<number> {
  const r = await admin(cluster.url(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'fst-master%' ${where}`, [dbName(url)]);
  return r.rowCount ?? 0;
}

describe('PostgreSQL engine: lost connections and failover', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('skips a host that does not answer, then reconnects after its server ended the connection', async () => {
    const { db, url } = await openDb(postgres.get(), cleanup, [`127.0.0.1:${await closedPort()}`]);
    await bumpFiles(db);
    expect(await terminateMaster(postgres.get(), url)).toBeGreaterThan(0);
    // The next transaction begins on a new connection; reads find their way back too.
    await waitFor('a write after the writer connection was ended', () => bumpFiles(db).then(() => true));
    await waitFor('a read after the reader connections were ended', async () => (await files(db)) >= 2);
  });

  it('fails as unavailable while no server takes writes, and goes on when one does', async () => {
    const cluster = postgres.get();
    const { db, url } = await openDb(cluster, cleanup);
    await bumpFiles(db);
    await admin(cluster.url(), `ALTER DATABASE ${dbName(url)} SET default_transaction_read_only = on`);
    cleanup.add(() => admin(cluster.url(), `ALTER DATABASE ${dbName(url)} RESET default_transaction_read_only`));
    await terminateMaster(cluster, url);
    expect(await failure(bumpFiles(db)), 'a write while the only server is read-only').toBe('MetaUnavailableError EIO');
    expect(await failure(files(db)), 'a read from a read-only server (maybe a lagging standby)').toBe('MetaUnavailableError EIO');
    await admin(cluster.url(), `ALTER DATABASE ${dbName(url)} RESET default_transaction_read_only`);
    await waitFor('a write once the server takes writes again', () => bumpFiles(db).then(() => true));
    expect(await waitFor('a read back', async () => files(db))).toBe(2);
  });

  it('acknowledges a mutation whose COMMIT answer was lost after it committed', async () => {
    const cluster = postgres.get();
    const { db, url } = await openDb(cluster, cleanup);
    // A synchronous standby that never comes: COMMIT writes its record, then waits for it.
    await admin(cluster.url(), "ALTER SYSTEM SET synchronous_standby_names = 'nobody_standby'");
    cleanup.add(async () => {
      await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
      await admin(cluster.url(), 'SELECT pg_reload_conf()');
    });
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    const write = bumpFiles(db);
    void write.catch(() => undefined);
    await waitFor('the COMMIT waiting for the standby', async () => (await terminateMaster(cluster, url, "AND wait_event = 'SyncRep'")) > 0);
    await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    await write; // committed: acknowledged, though its COMMIT never answered
    expect(await waitFor('a read back', async () => files(db))).toBe(1);
  });

  it('fails as unavailable a mutation whose COMMIT answer was lost before it committed', async () => {
    const cluster = postgres.get();
    const { db, url } = await openDb(cluster, cleanup);
    // A deferred trigger runs inside COMMIT, before the commit record: end the backend there.
    await admin(url, 'CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$');
    await admin(url, 'CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON counters DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()');
    const write = bumpFiles(db);
    void write.catch(() => undefined);
    await waitFor('the COMMIT running its deferred trigger', async () => (await terminateMaster(cluster, url, "AND query = 'COMMIT' AND wait_event = 'PgSleep'")) > 0);
    expect(await failure(write)).toBe('MetaUnavailableError EIO');
    await admin(url, 'DROP TRIGGER slow ON counters');
    expect(await waitFor('a read', async () => files(db))).toBe(0);
    await waitFor('a write after the lost one', () => bumpFiles(db).then(() => true));
    expect(await files(db)).toBe(1);
  });

  it('drops a connection whose server stopped answering, and goes on on a new one', async () => {
    const cluster = postgres.get();
    const { db, url } = await openDb(cluster, cleanup, [], 2000);
    await bumpFiles(db);
    const [pid] = await writerBackends(cluster, url);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGSTOP'); // the backend keeps its socket open and answers nothing
    cleanup.add(() => {
      process.kill(pid!, 'SIGCONT');
      return admin(cluster.url(), 'SELECT pg_terminate_backend($1)', [pid]);
    });
    let done = false;
    void bumpFiles(db).then(() => (done = true));
    await waitFor('the write, on a new connection', () => done);
    // The stopped backend never learns its client left; the write went through another one.
    expect((await writerBackends(cluster, url)).some((p) => p !== pid)).toBe(true);
    expect(await files(db)).toBe(2);
  });

  it('waits for the outcome of a COMMIT it gave up on while the server still holds it', async () => {
    const cluster = postgres.get();
    const { db, url } = await openDb(cluster, cleanup, [], 2000);
    await admin(cluster.url(), "ALTER SYSTEM SET synchronous_standby_names = 'nobody_standby'");
    cleanup.add(async () => {
      await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
      await admin(cluster.url(), 'SELECT pg_reload_conf()');
    });
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    let done = false;
    const write = bumpFiles(db).then(() => (done = true));
    void write.catch(() => undefined);
    // The COMMIT waits for the standby past the answer timeout: its connection is dropped, and the
    // session asks about the transaction, which stays in progress while the old backend waits.
    const held = await waitFor('a COMMIT held for the standby', async () => (await writerBackends(cluster, url, "AND wait_event = 'SyncRep'"))[0]);
    await waitFor('a new writer connection asking about it', async () => (await writerBackends(cluster, url)).some((p) => p !== held));
    expect(done, 'not acknowledged while its outcome is unknown').toBe(false);
    await admin(cluster.url(), 'ALTER SYSTEM RESET synchronous_standby_names');
    await admin(cluster.url(), 'SELECT pg_reload_conf()');
    await write; // the held COMMIT went through: acknowledged
    expect(await files(db)).toBe(1);
  });
});
