/**
 * The lease's own connection to PostgreSQL (apart from the writer's, so that a long metadata
 * transaction never delays a renewal), made through the metadata URL's primary locator: with a
 * multi-host URL it reaches whichever server takes writes, and after a lost connection (a failover,
 * a timeout) the next statement connects again. Statements time out after one lease
 * (`query_timeout`), and a takeover waits at most as long for the old holder's row lock
 * (`lock_timeout`).
 */
import type pg from 'pg';
import type { Logger } from '../../common/log/logger.js';
import { parsePgTargets } from '../db/pg-hosts.js';
import { PrimaryLocator } from '../db/pg-primary.js';

/** SQLSTATE classes of a connection that is gone (08: connection exception, 57: operator intervention). */
const CONNECTION_GONE = /^(08|57)/;

export class LeaseConnection {
  private client: Promise<pg.Client> | undefined;
  private readonly locator: PrimaryLocator;

  constructor(url: string, ttlMs: number, log: Logger) {
    this.locator = new PrimaryLocator(parsePgTargets(url), { query_timeout: ttlMs, lock_timeout: ttlMs }, log);
  }

  /** The connection, made when there is none. */
  connection(): Promise<pg.Client> {
    this.client ??= this.locator.connect('fst-master-lease').catch((e: unknown) => {
      this.client = undefined;
      throw e;
    });
    return this.client;
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    const pending = this.connection();
    const client = await pending;
    try {
      return await client.query<R>(sql, params);
    } catch (e) {
      // An SQL error leaves the connection usable; anything else (a timeout, a lost server) drops it.
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string' || code.length !== 5 || CONNECTION_GONE.test(code)) {
        if (this.client === pending) this.client = undefined;
        void client.end().catch(() => undefined);
      }
      throw e;
    }
  }

  async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }
}
