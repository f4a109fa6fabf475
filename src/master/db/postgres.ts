/**
 * PostgreSQL as the home of the metadata (`fst-master --meta postgres://user@host:port/db`): the
 * same tables, columns and indexes as the SQLite schema (translated by sql-translate.ts), made at
 * once at the current schema version in an empty database, with the version in the one-row table
 * `fst_schema`; and the connection that makes or checks it.
 *
 * The master itself works on a copy of these tables and writes its changes behind it
 * (pg-working-copy.ts). The URL may list several hosts with target_session_attrs=read-write
 * (pg-hosts.ts): connections go to whichever takes writes (pg-primary.ts). int8 and numeric values
 * come back as JavaScript numbers (ids, sizes and sums stay below 2^53: postgres-types.ts).
 */
import type pg from 'pg';
import type { Logger } from '../../common/log/logger.js';
import { initialRows, type EngineOpenOptions } from './engine.js';
import { parsePgTargets } from './pg-hosts.js';
import { PrimaryLocator } from './pg-primary.js';
import { SCHEMA_V1, SCHEMA_VERSION } from './schema.js';
import { schemaToPostgres, toPostgres } from './sql-translate.js';
import { PG_TYPES } from './postgres-types.js';

export interface PostgresEngineOptions extends EngineOpenOptions {
  /** postgres://user[:password]@host[:port][,host[:port]...]/database[?target_session_attrs=read-write] (or ?host=/socket/dir). */
  url: string;
  /** Where lost connections and reconnections are told. */
  log?: Logger;
  /**
   * A transaction unanswered this long has its connection dropped (a server cut off by the network
   * sends no reset). @default 60000
   */
  answerTimeoutMs?: number;
}

/** Key of the advisory lock held while the schema is made. */
const SCHEMA_LOCK = 0x4653_5401;

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  // Not new URL(): a list of hosts (h1:p1,h2:p2) is no WHATWG URL.
  const m = /^([a-z]+:\/\/[^:@/?#]*):[^@/?#]*@/i.exec(url);
  return m ? `${m[1]}:***@${url.slice(m[0].length)}` : url;
}

/**
 * A connection to the server at `opts.url` that takes writes, with the schema made there or
 * checked; `created`: made now. The locator finds that server again for later connections.
 */
export async function openPostgres(opts: PostgresEngineOptions): Promise<{ client: pg.Client; locator: PrimaryLocator; created: boolean }> {
  const locator = new PrimaryLocator(parsePgTargets(opts.url), { types: PG_TYPES }, opts.log);
  const client = await locator.connect('fst-master-open');
  try {
    return { client, locator, created: await ensureSchema(client, opts.defaultReplication) };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
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
