/**
 * Read access to a running (or stopped) master's metadata from a test, through a connection of
 * its own, on the cluster's engine: its SQLite file read-only (WAL lets it read while the master
 * writes), or its PostgreSQL database (`cluster.meta`). Tests write SQLite's dialect, as the
 * master does; on PostgreSQL it is translated as the master's is (sql-translate.ts), with 64-bit
 * integers and sums read back as numbers, as the engine reads them.
 */
import { join } from 'node:path';
import pg from 'pg';
import type { Reader } from '../../src/master/db/engine.js';
import { PgConnection } from '../../src/master/db/postgres.js';
import { PG_TYPES } from '../../src/master/db/postgres-types.js';
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

/** The engine's own statement runner (translation included) on a client of the test's. */
class PgReader extends PgConnection implements MetaReader {
  private constructor(private readonly client: pg.Client) {
    super(client);
  }

  static async open(url: string): Promise<PgReader> {
    const client = new pg.Client({ connectionString: url, types: PG_TYPES, application_name: 'fst-test-reader' });
    await client.connect();
    client.on('error', () => undefined); // a lost connection fails the next query, which reports it
    return new PgReader(client);
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
