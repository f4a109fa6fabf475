/**
 * Which rows a transaction on the working copy (pg-working-copy.ts) changed, caught by triggers
 * and read back just before its COMMIT: the key of every row inserted, updated or deleted lands
 * in a TEMP table of the writer's connection (invisible to the reader, never in the file), and
 * `collect` answers, for each, the row as it now is, or null when it is gone. Savepoints roll the
 * marks back with the rows, so a mutation that failed leaves none.
 *
 * Rows, not statements: the master's SQL is SQLite's, and what PostgreSQL is sent is each changed
 * row's final state in one statement per table (pg-write-behind.ts), however many statements made it.
 */
import type { SqlValue } from './engine.js';
import type { SqliteConnection } from './sqlite.js';

/** A table of the working copy: its columns (in order) and its primary key's. */
export interface TableShape {
  name: string;
  columns: string[];
  key: string[];
}

/** The rows of one table a transaction changed: key (as JSON) → columns' values, or null when deleted. */
export type TableChanges = Map<string, SqlValue[] | null>;
/** Every table's changes (only tables with some). */
export type RowChanges = Map<string, TableChanges>;

const MARKS = '_fst_changed';

/** The working copy's tables and their keys (a key has one or two columns in this schema). */
export async function tableShapes(db: SqliteConnection): Promise<TableShape[]> {
  const names = await db.allRaw("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  const shapes: TableShape[] = [];
  for (const [name] of names) {
    const cols = await db.all<{ name: string; pk: number }>(`SELECT name, pk FROM pragma_table_info('${String(name)}') ORDER BY cid`);
    const key = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    if (key.length < 1 || key.length > 2) throw new Error(`table ${String(name)}: a working copy needs a primary key of one or two columns`);
    shapes.push({ name: String(name), columns: cols.map((c) => c.name), key });
  }
  return shapes;
}

/**
 * The triggers that mark changed rows, on the writer's connection. recursive_triggers: a REPLACE
 * that deletes a row conflicting on another UNIQUE column fires that row's delete trigger too.
 */
export async function markChanges(writer: SqliteConnection, shapes: TableShape[]): Promise<void> {
  const statements = [
    'PRAGMA temp_store = MEMORY;',
    'PRAGMA recursive_triggers = ON;',
    // No key: a trigger's OR IGNORE gives way to its outer statement's conflict clause (an UPSERT's
    // included), so marks may repeat, and collecting reads them DISTINCT.
    `CREATE TEMP TABLE ${MARKS} (tbl TEXT NOT NULL, k1, k2);`,
  ];
  for (const t of shapes) {
    const key = (row: 'NEW' | 'OLD'): string => `'${t.name}', ${row}.${t.key[0]}, ${t.key[1] ? `${row}.${t.key[1]}` : 0}`;
    const mark = (row: 'NEW' | 'OLD'): string => `INSERT INTO ${MARKS} VALUES (${key(row)});`;
    statements.push(
      `CREATE TEMP TRIGGER ${MARKS}_i_${t.name} AFTER INSERT ON main.${t.name} BEGIN ${mark('NEW')} END;`,
      `CREATE TEMP TRIGGER ${MARKS}_u_${t.name} AFTER UPDATE ON main.${t.name} BEGIN ${mark('OLD')} ${mark('NEW')} END;`,
      `CREATE TEMP TRIGGER ${MARKS}_d_${t.name} AFTER DELETE ON main.${t.name} BEGIN ${mark('OLD')} END;`,
    );
  }
  await writer.exec(statements.join('\n'));
}

const collectSqls = new Map<string, string>();

/** Per table, the marked keys with the rows they now name (NULLs where the row is gone), in one read. */
function collectSql(t: TableShape): string {
  let sql = collectSqls.get(t.name);
  if (!sql) {
    const on = t.key.map((c, i) => `t.${c} = m.k${i + 1}`).join(' AND ');
    sql = `SELECT m.k1, m.k2, ${t.columns.map((c) => `t.${c}`).join(', ')} FROM (SELECT DISTINCT k1, k2 FROM ${MARKS} WHERE tbl = '${t.name}') m LEFT JOIN ${t.name} t ON ${on}`;
    collectSqls.set(t.name, sql);
  }
  return sql;
}

/** The rows changed since the last collect, as they are now in the open transaction; the marks are cleared. */
export async function collectChanges(writer: SqliteConnection, shapes: Map<string, TableShape>): Promise<RowChanges | undefined> {
  const tables = await writer.allRaw(`SELECT DISTINCT tbl FROM ${MARKS}`);
  if (tables.length === 0) return undefined;
  const changes: RowChanges = new Map();
  for (const [tbl] of tables) {
    const t = shapes.get(String(tbl));
    if (!t) continue;
    const firstKey = 2 + t.columns.indexOf(t.key[0]!);
    const table: TableChanges = new Map();
    for (const r of await writer.allRaw(collectSql(t))) {
      const key = t.key.length === 1 ? [r[0]!] : [r[0]!, r[1]!];
      table.set(JSON.stringify(key), r[firstKey] === null ? null : r.slice(2));
    }
    changes.set(t.name, table);
  }
  await writer.run(`DELETE FROM ${MARKS}`);
  return changes;
}

/** `later`'s changes over `into`'s (a row's last state wins): several commits sent as one. */
export function mergeChanges(into: RowChanges, later: RowChanges): void {
  for (const [name, rows] of later) {
    const table = into.get(name);
    if (!table) into.set(name, rows);
    else for (const [k, row] of rows) table.set(k, row);
  }
}
