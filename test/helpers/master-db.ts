/**
 * Read access to a running (or stopped) master's metadata from a test, through a connection of
 * its own, on the cluster's engine: its SQLite file read-only (WAL lets it read while the master
 * writes), or its PostgreSQL database (`cluster.meta`). Tests write SQLite's dialect, as the
 * master does; on PostgreSQL it is translated as the master's is (sql-translate.ts), with 64-bit
 * integers and sums read back as numbers, as the engine reads them.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { Reader, Row, SqlParams, SqlValue } from '../../src/master/db/engine.js';
import { PG_TYPES } from '../../src/master/db/postgres-types.js';
import { toPostgres } from '../../src/master/db/sql-translate.js';
import { SqliteConnection } from '../../src/master/db/sqlite.js';

/** A test's reader of the master's metadata. */
export interface MetaReader extends Reader {
  close(): Promise<void>;
}

/** What a reader needs of a cluster (a ProcessCluster). */
export interface MetaLocation {
  masterDataDir: string;
  /** The cluster's PostgreSQL database; undefined: SQLite in masterDataDir. */
  meta: string | undefined;
}

export async function openDb(cluster: MetaLocation): Promise<MetaReader> {
  if (cluster.meta !== undefined) return PgReader.open(cluster.meta);
  const db = await SqliteConnection.open(join(cluster.masterDataDir, 'meta.sqlite3'), 'read');
  await db.exec('PRAGMA busy_timeout=5000;');
  return db;
}

/** Each SQL text translated once (sql-translate.ts), under the name its prepared statement gets. */
const translations = new Map<string, { name: string; text: string }>();

/** SQLite's dialect on a PostgreSQL client of the test's, as prepared statements. */
class PgReader implements MetaReader {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<PgReader> {
    const client = new pg.Client({ connectionString: url, types: PG_TYPES, application_name: 'fst-test-reader' });
    await client.connect();
    client.on('error', () => undefined); // a lost connection fails the next query, which reports it
    return new PgReader(client);
  }

  private query(sql: string, params: SqlParams, rowMode?: 'array'): Promise<pg.QueryResult> {
    let t = translations.get(sql);
    if (!t) translations.set(sql, (t = { name: `fst-test-${translations.size}`, text: toPostgres(sql) }));
    // PRAGMAs other than user_version translate to nothing.
    if (t.text === '') return Promise.resolve({ rows: [], rowCount: 0, command: '', oid: 0, fields: [] });
    return this.client.query({ name: t.name, text: t.text, values: params, ...(rowMode ? { rowMode } : {}) } as pg.QueryConfig);
  }

  async get<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }

  async all<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T[]> {
    return (await this.query(sql, params)).rows as T[];
  }

  async getRaw(sql: string, params: SqlParams = []): Promise<SqlValue[] | undefined> {
    return (await this.query(sql, params, 'array')).rows[0] as SqlValue[] | undefined;
  }

  async allRaw(sql: string, params: SqlParams = []): Promise<SqlValue[][]> {
    return (await this.query(sql, params, 'array')).rows as SqlValue[][];
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
