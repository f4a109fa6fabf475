/**
 * The namespace as a JSON-lines dump (dump-format.ts), from and into SQLite database files: every
 * table of the metadata database with its rows. `fstadmin metadata dump` takes one from a running
 * master (from a snapshot, so writes go on); `fstadmin metadata load` or `fst-master --load` puts
 * one into a new data directory, by an fst-master of the dump's schema version (a newer one then
 * migrates the directory at its start, as any upgrade). PostgreSQL's side is postgres-dump.ts.
 */
import Database from 'better-sqlite3';
import { quoteName, readDump, writeDump, type DumpTable } from './dump-format.js';

function userTables(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
}

function* tablesOf(db: Database.Database): Iterable<DumpTable> {
  for (const table of userTables(db)) {
    const columns = (db.pragma(`table_info(${quoteName(table)})`) as { name: string }[]).map((c) => c.name);
    const rows = db.prepare(`SELECT ${columns.map(quoteName).join(', ')} FROM ${quoteName(table)}`).raw().iterate() as Iterable<unknown[]>;
    yield { table, columns, rows };
  }
}

/** Writes the dump of database file `dbPath` (a snapshot: nobody writes it) to `dest`; rows written. */
export async function dumpDatabase(dbPath: string, dest: string, created: number): Promise<number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return await writeDump(dest, db.pragma('user_version', { simple: true }) as number, created, tablesOf(db));
  } finally {
    db.close();
  }
}

/**
 * Loads a dump into the database `dbPath` of a data directory that a fresh master has just made
 * (its own root and counters are replaced): one transaction, all or nothing.
 */
export async function loadDump(dbPath: string, file: string): Promise<number> {
  const db = new Database(dbPath, { fileMustExist: true });
  let insert: Database.Statement | undefined;
  try {
    db.exec('BEGIN IMMEDIATE');
    const tables = userTables(db);
    for (const table of tables) db.exec(`DELETE FROM ${quoteName(table)}`);
    const rows = await readDump(file, new Set(tables), {
      table: (table, columns) => {
        insert = db.prepare(`INSERT INTO ${quoteName(table)} (${columns.map(quoteName).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      },
      row: (values) => void insert!.run(values),
    });
    db.exec('COMMIT');
    return rows;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    db.close();
  }
}

