/**
 * Read access to a running (or stopped) master's SQLite database from a test, through a read-only
 * connection of its own: WAL lets it read while the master writes.
 */
import { join } from 'node:path';
import { SqliteConnection } from '../../src/master/db/sqlite.js';

export async function openDb(masterDataDir: string): Promise<SqliteConnection> {
  const db = await SqliteConnection.open(join(masterDataDir, 'meta.sqlite3'), 'read');
  await db.exec('PRAGMA busy_timeout=5000;');
  return db;
}
