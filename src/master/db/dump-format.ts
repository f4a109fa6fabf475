/**
 * The namespace dump's file format, whatever the engine it comes from or goes to: JSON lines, a
 * header (format, schema version, time), then each table as a line naming it and its columns
 * followed by its rows as arrays (BLOBs as `{"b64": ...}`), then an end line counting the rows
 * (a truncated dump is refused). Engines supply the tables (dump.ts for SQLite, postgres-dump.ts
 * for PostgreSQL); this module only writes and reads the lines.
 */
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { FsError } from '../../common/errors/errno.js';
import { SCHEMA_VERSION } from './schema.js';

export const DUMP_FORMAT = 'fst-metadata-dump';
type Cell = number | string | null | { b64: string };

interface DumpHeader { format: string; version: 1; schemaVersion: number; created: number }

/** One table of a dump: its columns by name and its rows, each an array in the columns' order. */
export interface DumpTable {
  table: string;
  columns: string[];
  rows: AsyncIterable<unknown[]> | Iterable<unknown[]>;
}

const encode = (v: unknown): Cell => (Buffer.isBuffer(v) ? { b64: v.toString('base64') } : (v as Cell));
const decode = (v: Cell): unknown => (v !== null && typeof v === 'object' ? Buffer.from(v.b64, 'base64') : v);

async function put(out: WriteStream, obj: unknown): Promise<void> {
  if (!out.write(`${JSON.stringify(obj)}\n`)) await once(out, 'drain');
}

/** Writes a dump of `tables` to `dest` (a new file, mode 0600); the rows written. */
export async function writeDump(dest: string, schemaVersion: number, created: number, tables: AsyncIterable<DumpTable> | Iterable<DumpTable>): Promise<number> {
  const out = createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  let rows = 0;
  try {
    await put(out, { format: DUMP_FORMAT, version: 1, schemaVersion, created } satisfies DumpHeader);
    for await (const t of tables) {
      await put(out, { table: t.table, columns: t.columns });
      for await (const row of t.rows) {
        await put(out, row.map(encode));
        rows++;
      }
    }
    await put(out, { end: true, rows });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return rows;
  } catch (e) {
    out.destroy();
    throw e;
  }
}

/** Where a dump's rows go: told each table before its rows. */
export interface DumpSink {
  table(table: string, columns: string[]): void | Promise<void>;
  row(values: unknown[]): void | Promise<void>;
}

/**
 * Reads dump `file` into `sink`, checking it as it goes: its header, that its schema version is
 * this fst-master's, that tables are among `knownTables`, and its end line's row count. Throws
 * EINVAL (the caller rolls back what the sink did) on anything else; answers the rows read.
 */
export async function readDump(file: string, knownTables: ReadonlySet<string>, sink: DumpSink): Promise<number> {
  if (!existsSync(file)) throw new FsError('ENOENT', `no dump file ${file}`);
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const bad = (why: string): FsError => new FsError('EINVAL', `${file} is not a usable metadata dump: ${why}`);
  let header: DumpHeader | undefined;
  let inTable = false;
  let rows = 0;
  let ended = false;
  try {
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
        if (!inTable) throw bad('a row before its table');
        await sink.row(item.map((c) => decode(c as Cell)));
        rows++;
      } else if (typeof item === 'object' && item !== null && 'table' in item) {
        const { table, columns } = item as { table: string; columns: string[] };
        if (!knownTables.has(table)) throw bad(`table ${table} is unknown to this fst-master`);
        await sink.table(table, columns);
        inTable = true;
      } else if (typeof item === 'object' && item !== null && 'end' in item) {
        const said = (item as unknown as { rows: number }).rows;
        if (said !== rows) throw bad(`it says ${said} rows, ${rows} were read`);
        ended = true;
      }
    }
    if (!ended) throw bad('it has no end line (truncated?)');
    return rows;
  } finally {
    lines.close();
  }
}

export const quoteName = (name: string): string => `"${name.replace(/"/g, '""')}"`;
