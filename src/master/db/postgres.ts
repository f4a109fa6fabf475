/**
 * The PostgreSQL engine (`fst-master --meta postgres://user@host:port/db`): the same tables,
 * columns and indexes as the SQLite schema (translated by sql-translate.ts), created at once at
 * the current schema version in an empty database, with the version in the one-row table
 * `fst_schema`. The master's SQL is translated statement by statement (cached) and run as named
 * prepared statements.
 *
 * Connections: one dedicated client for the writer queue's transactions (the master is the only
 * writer), and a few for reads (pg-readers.ts); both in node-pg's pipeline mode, so that
 * statements are sent without waiting for the answers before. A read sees committed data only
 * (READ COMMITTED, a new snapshot per statement, as SQLite's reader outside a transaction). The
 * URL may list several hosts with target_session_attrs=read-write (pg-hosts.ts): both sides then
 * follow a failover to the new primary by themselves (pg-writer-session.ts, pg-readers.ts), and a
 * lost server is UNAVAILABLE to the caller (retried), never a crash.
 *
 * What differs from SQLite:
 * - durability: COMMIT returns once PostgreSQL's WAL is flushed (synchronous_commit=on, its
 *   default), so a `durable` write needs nothing more (no `syncLog`);
 * - `dataVersion` is a counter this master moves after each of its commits (it is the only writer);
 * - a snapshot (metadata backups) is a dump in the engine-neutral format (postgres-dump.ts), taken
 *   in one REPEATABLE READ transaction while writes go on, not a database file;
 * - int8 and numeric values come back as JavaScript numbers (ids, sizes and sums stay below 2^53).
 */
import type pg from 'pg';
import type { Logger } from '../../common/log/logger.js';
import { initialRows, type EngineOpenOptions, type EngineReader, type EngineWriter, type MetaEngine, type Row, type SqlConnection, type SqlParams, type SqlValue } from './engine.js';
import { parsePgTargets } from './pg-hosts.js';
import { PrimaryLocator } from './pg-primary.js';
import { PrimaryReaders } from './pg-readers.js';
import { ANSWER_TIMEOUT_MS, WriterSession, type WriteGuard } from './pg-writer-session.js';
import { SCHEMA_V1, SCHEMA_VERSION } from './schema.js';
import { schemaToPostgres, toPostgres } from './sql-translate.js';
import { dumpPostgres } from './postgres-dump.js';
import { PG_TYPES } from './postgres-types.js';
import { DeferredStatements } from './pg-deferred.js';
import { TransactionAbortedError } from './pg-errors.js';

export interface PostgresEngineOptions extends EngineOpenOptions {
  /** postgres://user[:password]@host[:port][,host[:port]...]/database[?target_session_attrs=read-write] (or ?host=/socket/dir). */
  url: string;
  /** Reader connections. @default 4 */
  readers?: number;
  /** Where lost connections and reconnections are told. */
  log?: Logger;
  /**
   * A statement unanswered this long has its connection dropped (a server cut off by the network
   * sends no reset). @default 60000
   */
  answerTimeoutMs?: number;
}

/** Key of the advisory lock held while the schema is made (and, later, by the active master). */
const SCHEMA_LOCK = 0x4653_5401;
const READERS = 4;


interface Translated { name: string; text: string }
/** Every SQL text seen, translated once, with the name its prepared statement has on each connection. */
const translations = new Map<string, Translated>();
/** The master's SQL is a few hundred texts; lists of ids (IN (?, ?, ...)) make a few more. */
const MAX_TRANSLATIONS = 5000;
let statements = 0;

function translate(sql: string): Translated {
  let t = translations.get(sql);
  if (!t) {
    // Names are never reused: a connection keeps what it prepared under a name.
    t = { name: `fst${++statements}`, text: toPostgres(sql) };
    if (translations.size >= MAX_TRANSLATIONS) translations.clear();
    translations.set(sql, t);
  }
  return t;
}

/** Anything with node-pg's query (the writer session, the pipelined readers). */
interface Queryable {
  query(config: pg.QueryConfig | pg.QueryArrayConfig): Promise<pg.QueryResult>;
}

/** The master's statements on a node-pg client or pool (also what the tests read the metadata with). */
export class PgConnection implements SqlConnection {
  constructor(protected readonly q: Queryable) {}

  protected async query(sql: string, params: SqlParams, array: boolean): Promise<pg.QueryResult> {
    const t = translate(sql);
    if (t.text === '') return { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };
    const config: pg.QueryConfig = { name: t.name, text: t.text, values: params };
    const arrays: pg.QueryArrayConfig = { ...config, rowMode: 'array' };
    return this.q.query(array ? arrays : config);
  }

  async run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    const r = await this.query(sql, params, false);
    return { changes: r.rowCount ?? 0, lastID: 0 };
  }

  async get<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return (await this.query(sql, params, false)).rows[0] as T | undefined;
  }

  async all<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T[]> {
    return (await this.query(sql, params, false)).rows as T[];
  }

  async getRaw(sql: string, params: SqlParams = []): Promise<SqlValue[] | undefined> {
    return (await this.query(sql, params, true)).rows[0] as SqlValue[] | undefined;
  }

  async allRaw(sql: string, params: SqlParams = []): Promise<SqlValue[][]> {
    return (await this.query(sql, params, true)).rows as SqlValue[][];
  }
}

/**
 * The writer queue's connection, in node-pg's pipeline mode: statements a body does not wait for
 * (runLater, savepoints) are sent at once behind the ones before, and the body's next read
 * waits for all of them in one round trip. A failure among them fails COMMIT (pg-deferred.ts).
 */
class PgWriter extends PgConnection implements EngineWriter {
  private readonly deferred = new DeferredStatements();
  /** Savepoints of this transaction so far: each mutation's has a name of its own (see commit). */
  private savepoints = 0;

  constructor(private readonly session: WriterSession) {
    super(session);
  }

  /** An awaited statement: when a deferred one before it failed, that failure (the cause) is thrown. */
  protected override async query(sql: string, params: SqlParams, array: boolean): Promise<pg.QueryResult> {
    try {
      return await super.query(sql, params, array);
    } catch (e) {
      throw (await this.deferred.settled())?.error ?? e;
    }
  }

  runLater(sql: string, params: SqlParams = []): void {
    this.deferred.add(super.query(sql, params, false));
  }

  /**
   * BEGIN is awaited, not sent later: its round trip also brings the transaction's id, which a
   * COMMIT whose answer is lost is decided by (pg-writer-session.ts), and it is where the session
   * reconnects to whichever host takes writes.
   */
  begin(): Promise<void> {
    this.deferred.reset();
    this.savepoints = 0;
    return this.session.begin();
  }
  /** Several masters (master/ha/): see WriterSession.guard (checked in BEGIN's round trip). */
  guardWrites(guard: WriteGuard): void { this.session.guard = guard; }
  /**
   * COMMIT goes out right behind the last mutation's deferred writes. A write that failed aborted
   * the transaction, and COMMIT of an aborted transaction answers ROLLBACK (made a failure here,
   * with the write's error as the reason). The only way out of the aborted state is the failing
   * mutation's own ROLLBACK TO SAVEPOINT, when its body threw after the write (that mutation is
   * then rejected): savepoint names are never reused within a transaction, so no later mutation
   * can roll back to a savepoint from before the failure and commit past it. A COMMIT whose answer
   * is lost is decided by the session (pg_xact_status), whatever the deferred writes answered.
   */
  async commit(): Promise<void> {
    try {
      await this.session.commit();
    } catch (e) {
      if (e instanceof TransactionAbortedError) throw (await this.deferred.settled())?.error ?? e;
      throw e;
    }
  }
  async rollback(): Promise<void> {
    await this.session.rollback();
    this.deferred.reset();
  }
  savepoint(): Promise<void> { return this.sendLater(`SAVEPOINT m${++this.savepoints}`); }
  release(): Promise<void> { return this.sendLater(`RELEASE SAVEPOINT m${this.savepoints}`); }
  rollbackToSavepoint(): Promise<void> { return this.sendLater(`ROLLBACK TO SAVEPOINT m${this.savepoints}`); }
  end(): Promise<void> { return this.session.close(); }

  private sendLater(sql: string): Promise<void> {
    this.deferred.add(this.session.query(sql));
    return Promise.resolve();
  }
}

class PgReader extends PgConnection implements EngineReader {
  constructor(private readonly pool: PrimaryReaders, private readonly version: () => number) {
    super(pool);
  }
  dataVersion(): number { return this.version(); }
  close(): Promise<void> { return this.pool.end(); }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  // Not new URL(): a list of hosts (h1:p1,h2:p2) is no WHATWG URL.
  const m = /^([a-z]+:\/\/[^:@/?#]*):[^@/?#]*@/i.exec(url);
  return m ? `${m[1]}:***@${url.slice(m[0].length)}` : url;
}

export class PostgresEngine implements MetaEngine {
  readonly kind = 'postgres';
  /** Moves after each commit of this master (the listing cache's data version). */
  private commits = 0;
  readonly reader: PgReader;

  private constructor(
    readonly writer: PgWriter,
    pool: PrimaryReaders,
    readonly location: string,
    readonly created: boolean,
    private readonly url: string,
  ) {
    this.reader = new PgReader(pool, () => this.commits);
  }

  static async open(opts: PostgresEngineOptions): Promise<PostgresEngine> {
    const { session, locator, created } = await openPostgres(opts);
    const readers = new PrimaryReaders(locator, opts.readers ?? READERS, opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS);
    return new PostgresEngine(new PgWriter(session), readers, redactUrl(opts.url), created, opts.url);
  }

  committed(): void {
    this.commits++;
  }

  guardWrites(guard: WriteGuard): void {
    this.writer.guardWrites(guard);
  }

  async schemaVersion(): Promise<number> {
    return (await this.reader.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
  }

  /** A dump (postgres-dump.ts) at `dest`: PostgreSQL's metadata has no file to copy. */
  async snapshot(dest: string): Promise<void> {
    await dumpPostgres(this.url, dest, Date.now());
  }

  async close(): Promise<void> {
    await this.reader.close().catch(() => undefined);
    await this.writer.end();
  }
}

/** The writer's session on the database at `opts.url`, with the schema made or checked; `created`: made now. */
export async function openPostgres(opts: PostgresEngineOptions): Promise<{ session: WriterSession; locator: PrimaryLocator; created: boolean }> {
  const locator = new PrimaryLocator(parsePgTargets(opts.url), { types: PG_TYPES }, opts.log);
  const session = new WriterSession(locator, opts.log, opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS);
  try {
    return { session, locator, created: await ensureSchema(await session.connection(), opts.defaultReplication) };
  } catch (e) {
    await session.close().catch(() => undefined);
    throw e;
  }
}

/** Makes the schema in an empty database (at the current version) or checks the one there; true when made. */
async function ensureSchema(client: pg.Client, defaultReplication: number): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const exists = (await client.query<{ t: string | null }>("SELECT to_regclass('fst_schema')::text AS t")).rows[0]?.t;
    if (exists) {
      const version = (await client.query<{ version: number }>('SELECT version FROM fst_schema')).rows[0]?.version ?? 0;
      await client.query('COMMIT');
      if (version > SCHEMA_VERSION) throw new Error(`metadata schema version ${version} is newer than this fst-master (${SCHEMA_VERSION})`);
      if (version < SCHEMA_VERSION) {
        throw new Error(`metadata schema version ${version} is older than this fst-master (${SCHEMA_VERSION}): PostgreSQL metadata has no migrations yet`);
      }
      return false;
    }
    const tables = (await client.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ('inodes', 'dentries', 'chunks')")).rows[0]?.n ?? 0;
    if (tables > 0) throw new Error('the PostgreSQL database holds master tables but no fst_schema: not a metadata database this fst-master made');
    await client.query(schemaToPostgres(SCHEMA_V1));
    await client.query('CREATE TABLE fst_schema (version BIGINT NOT NULL)');
    await client.query('INSERT INTO fst_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
    for (const { sql, params } of initialRows(defaultReplication, Date.now())) await client.query(toPostgres(sql), params);
    await client.query('COMMIT');
    return true;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
