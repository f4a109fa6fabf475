/**
 * Finds the PostgreSQL server to use among the metadata URL's hosts (pg-hosts.ts), as libpq does
 * with target_session_attrs=read-write: each host in turn, starting with the one that last
 * answered, keeping the first that takes writes (not in recovery, not read-only). After a
 * failover the old primary is down or a standby, so the next connection lands on the new one.
 */
import pg from 'pg';
import type { Logger } from '../../common/log/logger.js';
import { MetaUnavailableError } from './pg-errors.js';
import type { PgTargets } from './pg-hosts.js';

/** How long one host may take to accept a connection: a dead host must not hold up the next. */
const CONNECT_TIMEOUT_MS = 5_000;

export class PrimaryLocator {
  /** Index of the host that last took a connection. */
  private preferred = 0;

  constructor(
    private readonly targets: PgTargets,
    private readonly config: Omit<pg.ClientConfig, 'connectionString'>,
    private readonly log?: Logger,
  ) {}

  /** Whether `client`'s server takes writes (when the URL asks for read-write; any server otherwise). */
  async usable(client: pg.ClientBase): Promise<boolean> {
    if (!this.targets.readWrite) return true;
    const r = await client.query<{ ro: boolean }>("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::bool AS ro");
    return r.rows[0]?.ro === false;
  }

  /**
   * A client connected to the first host that takes writes, starting with the last one that did;
   * MetaUnavailableError (UNAVAILABLE: retried) naming what each host answered when none does.
   * `pipeline`: the client sends statements without waiting for the answers before (the writer).
   */
  async connect(applicationName: string, pipeline = false): Promise<pg.Client> {
    const n = this.targets.urls.length;
    const why: string[] = [];
    for (let k = 0; k < n; k++) {
      const i = (this.preferred + k) % n;
      const client = new pg.Client({ ...this.config, connectionString: this.targets.urls[i], application_name: applicationName, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true, pipeline });
      client.on('error', () => undefined); // a connection lost later fails its next statement, which reports it
      try {
        await client.connect();
        if (await this.usable(client)) {
          if (i !== this.preferred) this.log?.warn('PostgreSQL metadata: now using another host', { host: this.targets.hosts[i], was: this.targets.hosts[this.preferred] });
          this.preferred = i;
          return client;
        }
        why.push(`${this.targets.hosts[i]}: read-only (a standby)`);
      } catch (e) {
        why.push(`${this.targets.hosts[i]}: ${e instanceof Error ? e.message : String(e)}`);
      }
      await client.end().catch(() => undefined);
    }
    throw new MetaUnavailableError(`no PostgreSQL server that takes writes (${why.join('; ')})`);
  }
}
