/**
 * Dumps of PostgreSQL metadata and loads into it, in the engine-neutral dump format
 * (dump-format.ts): what `fstadmin metadata backup` and `dump` take from a master on PostgreSQL,
 * and what `fst-master --meta URL --restore FILE` or `--load FILE` put into an empty database.
 *
 * A dump reads every table in one REPEATABLE READ READ ONLY transaction on a connection of its
 * own, so it is one consistent snapshot while the master goes on writing, and streams each table
 * through a cursor (a namespace of millions of files is never held in memory). A load runs in one
 * transaction: all or nothing.
 */
import type pg from 'pg';
import { FsError } from '../../common/errors/errno.js';
import { quoteName, readDump, writeDump, type DumpTable } from './dump-format.js';
import { parsePgTargets } from './pg-hosts.js';
import { PrimaryLocator } from './pg-primary.js';
import { PG_TYPES } from './postgres-types.js';

/** Rows fetched per round trip from a table's cursor. */
const FETCH_ROWS = 2000;
/** Rows per INSERT while loading (PostgreSQL takes at most 65,535 parameters a statement). */
const INSERT_ROWS = 500;

/** The master's tables (not the engine's own `fst_*` bookkeeping), by name. */
async function metadataTables(client: pg.Client): Promise<string[]> {
  const r = await client.query<{ t: string }>(
    "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'fst\\_%' ORDER BY tablename",
  );
  return r.rows.map((x) => x.t);
}

async function columnsOf(client: pg.Client, table: string): Promise<string[]> {
  const r = await client.query<{ c: string }>(
    'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
    [table],
  );
  return r.rows.map((x) => x.c);
}

/** A table's rows through a cursor, FETCH_ROWS a round trip (inside a transaction of `client`'s). */
export async function* cursorRows(client: pg.Client, table: string, columns: string[]): AsyncIterable<unknown[]> {
  await client.query(`DECLARE dump_rows NO SCROLL CURSOR FOR SELECT ${columns.map(quoteName).join(', ')} FROM ${quoteName(table)}`);
  try {
    for (;;) {
      const r = await client.query({ text: `FETCH FORWARD ${FETCH_ROWS} FROM dump_rows`, rowMode: 'array' });
      for (const row of r.rows as unknown[][]) yield row;
      if (r.rows.length < FETCH_ROWS) return;
    }
  } finally {
    await client.query('CLOSE dump_rows');
  }
}

async function* tablesOf(client: pg.Client): AsyncIterable<DumpTable> {
  for (const table of await metadataTables(client)) {
    const columns = await columnsOf(client, table);
    yield { table, columns, rows: cursorRows(client, table, columns) };
  }
}

/** A connection of its own to the server that takes writes among `url`'s hosts (pg-primary.ts). */
function connect(url: string, role: string): Promise<pg.Client> {
  return new PrimaryLocator(parsePgTargets(url), { types: PG_TYPES }).connect(`fst-master-${role}`);
}

/** Writes a dump of the metadata in database `url` to `dest` (a new file); its schema version and rows. */
export async function dumpPostgres(url: string, dest: string, created: number): Promise<{ schemaVersion: number; rows: number }> {
  const client = await connect(url, 'dump');
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const schemaVersion = (await client.query<{ version: number }>('SELECT version FROM fst_schema')).rows[0]?.version ?? 0;
    const rows = await writeDump(dest, schemaVersion, created, tablesOf(client));
    await client.query('COMMIT');
    return { schemaVersion, rows };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Sets every identity column's sequence past the largest value loaded, so rows made later get new numbers. */
async function resetIdentities(client: pg.Client): Promise<void> {
  const ids = await client.query<{ t: string; c: string }>(
    "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'",
  );
  for (const { t, c } of ids.rows) {
    await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT MAX(${quoteName(c)}) FROM ${quoteName(t)}), 1))`, [quoteName(t), c]);
  }
}

/**
 * Loads dump `file` into database `url`, whose metadata schema a master has made and nobody used
 * (its own root and counters are replaced), in one transaction; the rows loaded. A database holding
 * a file, a directory or a chunk is refused: a load never overwrites a namespace.
 */
export async function loadIntoPostgres(url: string, file: string): Promise<number> {
  const client = await connect(url, 'load');
  let insert: { table: string; columns: string[] } | undefined;
  let batch: unknown[][] = [];
  const flush = async (): Promise<void> => {
    if (!insert || batch.length === 0) return;
    const width = insert.columns.length;
    const values = batch.map((_, r) => `(${insert!.columns.map((__, c) => `$${r * width + c + 1}`).join(', ')})`).join(', ');
    await client.query(`INSERT INTO ${quoteName(insert.table)} (${insert.columns.map(quoteName).join(', ')}) VALUES ${values}`, batch.flat());
    batch = [];
  };
  try {
    await client.query('BEGIN');
    const used = (await client.query<{ inodes: number; chunks: number }>('SELECT (SELECT COUNT(*) FROM inodes) AS inodes, (SELECT COUNT(*) FROM chunks) AS chunks')).rows[0];
    if (!used || used.inodes > 1 || used.chunks > 0) {
      throw new FsError('EEXIST', `the PostgreSQL database already holds a namespace (${used?.inodes ?? '?'} inodes, ${used?.chunks ?? '?'} chunks): load or restore into an empty database`);
    }
    const tables = await metadataTables(client);
    for (const table of tables) await client.query(`DELETE FROM ${quoteName(table)}`);
    const rows = await readDump(file, new Set(tables), {
      table: async (table, columns) => {
        await flush();
        insert = { table, columns };
      },
      row: async (values) => {
        if (insert && values.length !== insert.columns.length) {
          throw new FsError('EINVAL', `${file} is not a usable metadata dump: a row of ${insert.table} has ${values.length} values for ${insert.columns.length} columns`);
        }
        batch.push(values);
        if (batch.length >= INSERT_ROWS) await flush();
      },
    });
    await flush();
    await resetIdentities(client);
    await client.query('COMMIT');
    return rows;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end().catch(() => undefined);
  }
}
