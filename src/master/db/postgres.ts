/**
 * The PostgreSQL engine (`fst-master --meta postgres://user@host:port/db`): the same tables,
 * columns and indexes as the SQLite schema (translated by sql-translate.ts), created at once at
 * the current schema version in an empty database, with the version in the one-row table
 * `fst_schema`. The master's SQL is translated statement by statement (cached) and run as named
 * prepared statements.
 *
 * Connections: one dedicated client for the writer queue's transactions (the master is the only
 * writer), and a few for reads (pg-read-pipelines.ts); both in node-pg's pipeline mode, so that
 * statements are sent without waiting for the answers before. A read sees committed data only
 * (READ COMMITTED, a new snapshot per statement, as SQLite's reader outside a transaction).
 *
 * What differs from SQLite:
 * - durability: COMMIT returns once PostgreSQL's WAL is flushed (synchronous_commit=on, its
 *   default), so a `durable` write needs nothing more (no `syncLog`);
 * - `dataVersion` is a counter this master moves after each of its commits (it is the only writer);
 * - snapshots (metadata backups, dumps) are not taken: that is pg_dump's job;
 * - int8 and numeric values come back as JavaScript numbers (ids, sizes and sums stay below 2^53).
 */
import pg from 'pg';
import { FsError } from '../../common/errors/errno.js';
import { initialRows, type EngineOpenOptions, type EngineReader, type EngineWriter, type MetaEngine, type Row, type SqlConnection, type SqlParams, type SqlValue } from './engine.js';
import { SCHEMA_V1, SCHEMA_VERSION } from './schema.js';
import { schemaToPostgres, toPostgres } from './sql-translate.js';
import { DeferredStatements } from './pg-deferred.js';
import { WriteBatch } from './pg-write-batch.js';
import { PipelinedReaders } from './pg-read-pipelines.js';

export interface PostgresEngineOptions extends EngineOpenOptions {
  /** postgres://user[:password]@host[:port]/database (or ?host=/socket/dir). */
  url: string;
  /** Reader connections. @default 4 */
  readers?: number;
}

/** Key of the advisory lock held while the schema is made (and, later, by the active master). */
const SCHEMA_LOCK = 0x4653_5401;
const READERS = 4;

/** int8 (20) and numeric (1700) as numbers; everything else as node-pg does. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

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

/** Anything with node-pg's query (a Client, the pipelined readers). */
interface Queryable {
  query(config: pg.QueryConfig): Promise<pg.QueryResult>;
}

/** The master's statements on a node-pg client or pool. */
class PgConnection implements SqlConnection {
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
 * (runLater, BEGIN, savepoints) are sent at once behind the ones before, and the body's next read
 * waits for all of them in one round trip. A failure among them fails COMMIT (pg-deferred.ts).
 */
class PgWriter extends PgConnection implements EngineWriter {
  private readonly deferred = new DeferredStatements();
  private readonly batch: WriteBatch;
  /** Savepoints of this transaction so far: each mutation's has a name of its own (see commit). */
  private savepoints = 0;

  constructor(private readonly client: pg.Client) {
    super(client);
    this.batch = new WriteBatch(client.connection.stream);
  }

  private async simple(sql: string): Promise<pg.QueryResult> {
    this.batch.hold();
    return this.client.query(sql);
  }

  /** An awaited statement: when a deferred one before it failed, that failure (the cause) is thrown. */
  protected override async query(sql: string, params: SqlParams, array: boolean): Promise<pg.QueryResult> {
    this.batch.hold();
    try {
      return await super.query(sql, params, array);
    } catch (e) {
      throw (await this.deferred.settled())?.error ?? e;
    }
  }

  runLater(sql: string, params: SqlParams = []): void {
    this.batch.hold();
    this.deferred.add(super.query(sql, params, false));
  }

  begin(): Promise<void> {
    this.deferred.reset();
    this.savepoints = 0;
    return this.sendLater('BEGIN');
  }
  /**
   * COMMIT goes out right behind the last mutation's deferred writes. A write that failed aborted
   * the transaction, and COMMIT of an aborted transaction answers ROLLBACK (made a failure here,
   * with the write's error as the reason). The only way out of the aborted state is the failing
   * mutation's own ROLLBACK TO SAVEPOINT, when its body threw after the write (that mutation is
   * then rejected): savepoint names are never reused within a transaction, so no later mutation
   * can roll back to a savepoint from before the failure and commit past it.
   */
  async commit(): Promise<void> {
    const r = await this.simple('COMMIT');
    if (r.command === 'ROLLBACK') {
      throw (await this.deferred.settled())?.error ?? new Error('the metadata transaction was aborted by an earlier error and rolled back');
    }
  }
  async rollback(): Promise<void> {
    await this.simple('ROLLBACK');
    this.deferred.reset();
  }
  savepoint(): Promise<void> { return this.sendLater(`SAVEPOINT m${++this.savepoints}`); }
  release(): Promise<void> { return this.sendLater(`RELEASE SAVEPOINT m${this.savepoints}`); }
  rollbackToSavepoint(): Promise<void> { return this.sendLater(`ROLLBACK TO SAVEPOINT m${this.savepoints}`); }
  end(): Promise<void> { return this.client.end(); }

  private sendLater(sql: string): Promise<void> {
    this.deferred.add(this.simple(sql));
    return Promise.resolve();
  }
}

class PgReader extends PgConnection implements EngineReader {
  constructor(private readonly pool: PipelinedReaders, private readonly version: () => number) {
    super(pool);
  }
  dataVersion(): number { return this.version(); }
  close(): Promise<void> { return this.pool.end(); }
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export class PostgresEngine implements MetaEngine {
  readonly kind = 'postgres';
  /** Moves after each commit of this master (the listing cache's data version). */
  private commits = 0;
  readonly reader: PgReader;

  private constructor(
    readonly writer: PgWriter,
    pool: PipelinedReaders,
    readonly location: string,
    readonly created: boolean,
  ) {
    this.reader = new PgReader(pool, () => this.commits);
  }

  static async open(opts: PostgresEngineOptions): Promise<PostgresEngine> {
    // Pipeline mode: the writer sends statements without waiting for the ones before (PgWriter).
    const client = new pg.Client({ connectionString: opts.url, types: TYPES, application_name: 'fst-master', pipeline: true });
    await client.connect();
    let pool: PipelinedReaders | undefined;
    try {
      client.on('error', () => undefined); // a lost connection fails the next statement, which reports it
      const created = await ensureSchema(client, opts.defaultReplication);
      pool = new PipelinedReaders({ connectionString: opts.url, types: TYPES, application_name: 'fst-master-reader' }, opts.readers ?? READERS);
      return new PostgresEngine(new PgWriter(client), pool, redactUrl(opts.url), created);
    } catch (e) {
      await client.end().catch(() => undefined);
      await pool?.end().catch(() => undefined);
      throw e;
    }
  }

  committed(): void {
    this.commits++;
  }

  async schemaVersion(): Promise<number> {
    return (await this.reader.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
  }

  snapshot(): Promise<void> {
    return Promise.reject(new FsError('ENOTSUP', 'metadata snapshots are not taken of PostgreSQL metadata: back it up with pg_dump'));
  }

  async close(): Promise<void> {
    await this.reader.close().catch(() => undefined);
    await this.writer.end();
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
