/**
 * The namespace as JSON lines, independent of the engine and the database file's format: every
 * table of the metadata database, its columns by name and its rows as arrays (BLOBs as
 * `{"b64": ...}`), in table order, between a header line (format, schema version, time) and an end
 * line (rows written, as a check). `fstadmin metadata dump` takes one from a running master (from a
 * snapshot, so writes go on); `fstadmin metadata load` or `fst-master --load` puts one into a new
 * data directory, by an fst-master of the dump's schema version (a newer one then migrates the
 * directory at its start, as any upgrade).
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { FsError } from '../../common/errors/errno.js';
import { SCHEMA_VERSION } from './schema.js';

export const DUMP_FORMAT = 'fst-metadata-dump';
type Cell = number | string | null | { b64: string };

interface DumpHeader { format: string; version: 1; schemaVersion: number; created: number }

const encode = (v: unknown): Cell => (Buffer.isBuffer(v) ? { b64: v.toString('base64') } : (v as Cell));
const decode = (v: Cell): unknown => (v !== null && typeof v === 'object' ? Buffer.from(v.b64, 'base64') : v);
const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function userTables(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
}

/** Writes the dump of database file `dbPath` (a snapshot: nobody writes it) to `dest`; rows written. */
export async function dumpDatabase(dbPath: string, dest: string, created: number): Promise<number> {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const out = createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  const put = async (obj: unknown): Promise<void> => {
    if (!out.write(`${JSON.stringify(obj)}\n`)) await once(out, 'drain');
  };
  let rows = 0;
  try {
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    await put({ format: DUMP_FORMAT, version: 1, schemaVersion, created } satisfies DumpHeader);
    for (const table of userTables(db)) {
      const columns = (db.pragma(`table_info(${quote(table)})`) as { name: string }[]).map((c) => c.name);
      await put({ table, columns });
      for (const row of db.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)}`).raw().iterate() as Iterable<unknown[]>) {
        await put(row.map(encode));
        rows++;
      }
    }
    await put({ end: true, rows });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return rows;
  } catch (e) {
    out.destroy();
    throw e;
  } finally {
    db.close();
  }
}

/**
 * Loads a dump into the database `dbPath` of a data directory that a fresh master has just made
 * (its own root and counters are replaced): one transaction, all or nothing.
 */
export async function loadDump(dbPath: string, file: string): Promise<number> {
  if (!existsSync(file)) throw new FsError('ENOENT', `no dump file ${file}`);
  const db = new Database(dbPath, { fileMustExist: true });
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let insert: Database.Statement | undefined;
  let rows = 0;
  let ended = false;
  let header: DumpHeader | undefined;
  const bad = (why: string): FsError => new FsError('EINVAL', `${file} is not a usable metadata dump: ${why}`);
  try {
    db.exec('BEGIN IMMEDIATE');
    for (const table of userTables(db)) db.exec(`DELETE FROM ${quote(table)}`);
    const tables = new Set(userTables(db));
    for await (const line of lines) {
      if (line === '') continue;
      let item: unknown;
      try {
        item = JSON.parse(line);
      } catch {
        throw bad(`line ${rows + 1} is not JSON`);
      }
      if (!header) {
        header = item as DumpHeader;
        if (header.format !== DUMP_FORMAT) throw bad('it does not start with a dump header');
        // Migrations may transform rows, not only add columns: an older dump is loaded by the
        // fst-master of its version, which the newer one then migrates at its start.
        if (header.schemaVersion !== SCHEMA_VERSION) {
          throw bad(`it was made at schema v${header.schemaVersion} and this fst-master is at v${SCHEMA_VERSION}: load it with an fst-master of that version, then start this one on the directory (it migrates)`);
        }
      } else if (Array.isArray(item)) {
        if (!insert) throw bad('a row before its table');
        insert.run(item.map((c) => decode(c as Cell)));
        rows++;
      } else if (typeof item === 'object' && item !== null && 'table' in item) {
        const { table, columns } = item as { table: string; columns: string[] };
        if (!tables.has(table)) throw bad(`table ${table} is unknown to this fst-master`);
        insert = db.prepare(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      } else if (typeof item === 'object' && item !== null && 'end' in item) {
        const said = (item as unknown as { rows: number }).rows;
        if (said !== rows) throw bad(`it says ${said} rows, ${rows} were read`);
        ended = true;
      }
    }
    if (!ended) throw bad('it has no end line (truncated?)');
    db.exec('COMMIT');
    return rows;
  } catch (e) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  } finally {
    lines.close();
    db.close();
  }
}

export const dbPathIn = (dataDir: string): string => join(dataDir, 'meta.sqlite3');
