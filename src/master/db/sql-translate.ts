/**
 * The SQLite dialect the master's SQL is written in, translated to PostgreSQL's, in one place.
 * The master writes portable SQL where it can (upserts with ON CONFLICT, CASE instead of summed
 * comparisons); what differs is translated here, statement by statement (cached by the engine):
 *
 * - `?` placeholders become `$1`, `$2`, ...
 * - `PRAGMA user_version` reads the one-row `fst_schema` table; other PRAGMAs are no-ops ('').
 * - `BEGIN IMMEDIATE` becomes BEGIN (the master is the only writer: its queue serialises).
 * - scalar `MAX(a, b)` / `MIN(a, b)` become GREATEST / LEAST (aggregates keep their one argument).
 * - `INSERT OR IGNORE` becomes `... ON CONFLICT DO NOTHING`; `INSERT OR REPLACE` an upsert on the
 *   table's primary key (read from the schema).
 * - `CAST(x AS INTEGER)` becomes `CAST(x AS BIGINT)`.
 *
 * The schema (`schemaToPostgres`): comments and `WITHOUT ROWID` dropped, INTEGER as BIGINT (an
 * `INTEGER PRIMARY KEY`, SQLite's rowid alias that numbers new rows itself, as an identity column),
 * BLOB as BYTEA, TEXT compared byte by byte (COLLATE "C", as SQLite's BINARY: listings page in
 * byte order).
 */
import { SCHEMA_V1 } from './schema.js';

/** `sql` with string literals, quoted identifiers and comments blanked (same length): where code is. */
function mask(sql: string): string {
  return scan(sql, true);
}

/** `sql` without its `--` comments (literals kept). */
function stripComments(sql: string): string {
  return scan(sql, false);
}

function scan(sql: string, blankLiterals: boolean): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += blankLiterals ? c + ' '.repeat(Math.max(0, Math.min(j, sql.length) - i - 1)) + (j < sql.length ? c : '') : sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const j = end < 0 ? sql.length : end;
      if (blankLiterals) out += ' '.repeat(j - i);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The index of the parenthesis closing the one at `open` (in masked text), and its top-level commas. */
function closing(m: string, open: number): { close: number; commas: number[] } {
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < m.length; i++) {
    if (m[i] === '(') depth++;
    else if (m[i] === ')') {
      depth--;
      if (depth === 0) return { close: i, commas };
    } else if (m[i] === ',' && depth === 1) commas.push(i);
  }
  throw new Error(`unbalanced parentheses in SQL: ${m}`);
}

/** Scalar MAX(a, b, ...) / MIN(a, b, ...) to GREATEST / LEAST; one-argument aggregates stay. */
function scalarMinMax(sql: string): string {
  for (let from = 0; ;) {
    const m = mask(sql);
    const re = /\b(MAX|MIN)\s*\(/gi;
    re.lastIndex = from;
    const hit = re.exec(m);
    if (!hit) return sql;
    const open = hit.index + hit[0].length - 1;
    const { commas } = closing(m, open);
    if (commas.length > 0) {
      const name = hit[1]!.toUpperCase() === 'MAX' ? 'GREATEST' : 'LEAST';
      sql = sql.slice(0, hit.index) + name + sql.slice(open);
    }
    from = hit.index + 1;
  }
}

/** The primary key columns of each table of the schema. */
export function primaryKeys(ddl: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  const m = mask(ddl);
  const re = /CREATE TABLE (\w+) \(/g;
  for (let hit = re.exec(m); hit; hit = re.exec(m)) {
    const open = hit.index + hit[0].length - 1;
    const body = m.slice(open + 1, closing(m, open).close);
    const composite = /PRIMARY KEY \(([^)]*)\)/.exec(body);
    const single = /(\w+) \w+ PRIMARY KEY/.exec(body);
    const cols = composite ? composite[1]!.split(',').map((c) => c.trim()) : single ? [single[1]!] : [];
    keys.set(hit[1]!, cols);
  }
  return keys;
}

let schemaKeys: Map<string, string[]> | undefined;

/** `;` and spaces at the end of a statement, where a conflict clause goes before. */
function withTail(sql: string, clause: string): string {
  const body = sql.replace(/[\s;]+$/, '');
  return `${body} ${clause}`;
}

function insertOr(sql: string): string {
  const m = mask(sql);
  const ignore = /\bINSERT\s+OR\s+IGNORE\s+INTO\b/i.exec(m);
  if (ignore) {
    sql = sql.slice(0, ignore.index) + 'INSERT INTO' + sql.slice(ignore.index + ignore[0].length);
    return withTail(sql, 'ON CONFLICT DO NOTHING');
  }
  const replace = /\bINSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)/i.exec(m);
  if (replace) {
    const table = replace[1]!;
    schemaKeys ??= primaryKeys(SCHEMA_V1);
    const pk = schemaKeys.get(table);
    if (!pk?.length) throw new Error(`INSERT OR REPLACE into ${table}: no primary key known for it`);
    const cols = replace[2]!.split(',').map((c) => c.trim());
    const rest = cols.filter((c) => !pk.includes(c));
    sql = sql.slice(0, replace.index) + 'INSERT INTO' + sql.slice(replace.index + /\bINSERT\s+OR\s+REPLACE\s+INTO/i.exec(m.slice(replace.index))![0].length);
    return withTail(sql, rest.length === 0
      ? `ON CONFLICT (${pk.join(', ')}) DO NOTHING`
      : `ON CONFLICT (${pk.join(', ')}) DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}`);
  }
  return sql;
}

function placeholders(sql: string): string {
  const m = mask(sql);
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) out += m[i] === '?' ? `$${++n}` : sql[i];
  return out;
}

/** One statement of the master's SQL (SQLite dialect) as PostgreSQL runs it; '' for a no-op. */
export function toPostgres(sql: string): string {
  const trimmed = sql.trim();
  if (/^PRAGMA\s+user_version\s*;?$/i.test(trimmed)) return 'SELECT version AS user_version FROM fst_schema';
  if (/^PRAGMA\b/i.test(trimmed)) return '';
  if (/^BEGIN\s+IMMEDIATE\s*;?$/i.test(trimmed)) return 'BEGIN';
  let out = insertOr(sql);
  out = scalarMinMax(out);
  out = castInteger(out);
  return placeholders(out);
}

function castInteger(sql: string): string {
  const m = mask(sql);
  let out = '';
  let last = 0;
  const re = /\bAS\s+INTEGER\s*\)/gi;
  for (let hit = re.exec(m); hit; hit = re.exec(m)) {
    out += sql.slice(last, hit.index) + 'AS BIGINT)';
    last = hit.index + hit[0].length;
  }
  return out + sql.slice(last);
}

/** The master's schema (SQLite DDL, schema.ts) as PostgreSQL DDL. */
export function schemaToPostgres(ddl: string): string {
  return stripComments(ddl)
    .replace(/\)\s*WITHOUT ROWID/gi, ')')
    .replace(/\bINTEGER PRIMARY KEY\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bBLOB\b/g, 'BYTEA')
    .replace(/\bTEXT\b/g, 'TEXT COLLATE "C"')
    .replace(/[ \t]+\n/g, '\n');
}
