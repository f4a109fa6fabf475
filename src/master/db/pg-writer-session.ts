/**
 * The writer queue's connection to PostgreSQL, which outlives a failover. The connection is made
 * (again) when a transaction begins, to whichever host takes writes (pg-primary.ts), never in the
 * middle of one: a statement that finds its connection lost fails with MetaUnavailableError
 * (UNAVAILABLE: clients retry), and the transaction it belonged to is gone, since PostgreSQL commits
 * nothing without COMMIT.
 *
 * A COMMIT whose answer is lost is the one case that cannot be decided from here: the server may
 * have committed and died before answering, or died first. Each transaction therefore learns its
 * id at BEGIN (in the same round trip), and after a lost COMMIT the session reconnects and asks
 * the primary, old or new, what became of that id (pg_xact_status): committed, and the
 * transaction's mutations are acknowledged as if COMMIT had answered; aborted or unknown to that
 * server ("in the future": its WAL never reached it), and they fail with UNAVAILABLE, certainly not
 * applied, so a client may retry them. Until it knows, the session keeps asking, and the writer
 * queue waits behind it: nothing later is ordered before a transaction that may have committed.
 *
 * Each connection runs in node-pg's pipeline mode, and the statements given to it in one turn of
 * the event loop go out in one write (a WriteBatch, made anew with each connection): the writer
 * sends the writes whose answers nobody reads without waiting for them (postgres.ts, PgWriter).
 */
import pg from 'pg';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { WriteGuard as EngineWriteGuard } from './engine.js';
import { connectionLost, MetaUnavailableError, TransactionAbortedError } from './pg-errors.js';
import type { PrimaryLocator } from './pg-primary.js';
import { WriteBatch } from './pg-write-batch.js';

/** How long a lost COMMIT's outcome is looked for before its mutations fail with EIO. */
const OUTCOME_WAIT_MS = 120_000;
/** The pause between connection attempts grows to this while no server takes writes. */
const MAX_BACKOFF_MS = 2_000;
/**
 * A statement unanswered this long has its connection dropped: a server cut off by the network
 * sends no reset, and TCP alone would wait a quarter of an hour. Longer than any wait a healthy
 * primary imposes (a COMMIT held for a synchronous standby until pg_auto_failover gives up on it,
 * about 30 s), and safe whatever it interrupts: a dropped COMMIT's outcome is asked, not guessed.
 */
export const ANSWER_TIMEOUT_MS = 60_000;
/** SQLSTATE of pg_xact_status for an id the server never assigned ("transaction ID is in the future"). */
const INVALID_PARAMETER_VALUE = '22023';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** What a guarded transaction runs after BEGIN, and the error it fails with when that finds no row. */
export type WriteGuard = Pick<EngineWriteGuard, 'sql' | 'refused'>;

export class WriterSession {
  private client: pg.Client | undefined;
  /** Batches the current client's writes; rebuilt with each connection. */
  private batch: WriteBatch | undefined;
  /** The client emitted 'error' or 'end': its connection is gone. */
  private lost = false;
  /** The id of the open transaction (pg_current_xact_id), for a COMMIT whose answer is lost. */
  private xid: string | undefined;
  /** While no server takes writes, transactions fail at once until this time, then try again. */
  private retryAt = 0;
  private backoffMs = 0;
  private lastFailure = '';
  /** When the connection was lost (for the log line that says how long it took to come back). */
  private lostAt: number | undefined;
  private closed = false;

  constructor(
    private readonly locator: PrimaryLocator,
    private readonly log?: Logger,
    private readonly answerTimeoutMs = ANSWER_TIMEOUT_MS,
  ) {}

  /** A live connection, made when there is none (at open, and at BEGIN after a loss). */
  async connection(): Promise<pg.Client> {
    if (this.closed) throw new MetaUnavailableError('the metadata database is closed');
    if (this.client && !this.lost) return this.client;
    if (this.client) this.noteLost('the server ended the connection');
    this.drop();
    if (Date.now() < this.retryAt) throw new MetaUnavailableError(this.lastFailure);
    try {
      return this.adopt(await this.locator.connect('fst-master', true));
    } catch (e) {
      this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(100, this.backoffMs * 2));
      this.retryAt = Date.now() + this.backoffMs;
      this.lastFailure = messageOf(e);
      throw e;
    }
  }

  /** A statement of the open transaction; a lost connection fails it with MetaUnavailableError. */
  async query(config: string | pg.QueryConfig | pg.QueryArrayConfig): Promise<pg.QueryResult> {
    const client = this.live();
    try {
      return await this.answered(client, this.send(client, config as pg.QueryConfig));
    } catch (e) {
      throw this.failure(e, client);
    }
  }

  /**
   * Several masters (master/ha/): statements run after BEGIN in its round trip, the last of which
   * must find one row (the lease still this master's, locked against a takeover until the
   * transaction ends); otherwise the transaction is rolled back and refused with `refused()`.
   */
  guard: WriteGuard | undefined;

  async begin(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.connection();
      let held = true;
      try {
        // One round trip: the transaction and its id (for a COMMIT whose answer is lost).
        const guard = this.guard ? `; ${this.guard.sql()}` : '';
        const results = (await this.answered(client, this.send(client, `BEGIN; SELECT pg_current_xact_id()::text AS xid${guard}`))) as unknown as pg.QueryResult<{ xid: string }>[];
        this.xid = results[1]?.rows[0]?.xid;
        held = !this.guard || results[results.length - 1]?.rowCount === 1;
      } catch (e) {
        const f = this.failure(e, client);
        // Nothing was done on a connection lost before BEGIN answered: begin once more on a new one.
        if (!(f instanceof MetaUnavailableError) || attempt > 0) throw f;
        continue;
      }
      if (held) return;
      await this.rollback();
      throw this.guard!.refused();
    }
  }

  async commit(): Promise<void> {
    const client = this.live();
    const xid = this.xid;
    this.xid = undefined;
    let r: pg.QueryResult;
    try {
      r = await this.answered(client, this.send(client, 'COMMIT'));
    } catch (e) {
      const f = this.failure(e, client);
      if (!(f instanceof MetaUnavailableError)) throw f; // PostgreSQL refused the COMMIT: nothing committed
      // Without its id (never seen: BEGIN answers it) the outcome cannot be asked: unknown, EIO.
      if (xid === undefined) throw new FsError('EIO', `the metadata transaction's COMMIT went unanswered and its outcome cannot be known (${messageOf(e)})`, { cause: e });
      if (await this.committed(xid)) return;
      throw new MetaUnavailableError(`the metadata transaction did not commit: its PostgreSQL connection was lost (${messageOf(e)})`, { cause: e });
    }
    // COMMIT of a transaction an error aborted answers ROLLBACK instead of failing: make it fail.
    if (r.command === 'ROLLBACK') throw new TransactionAbortedError();
  }

  async rollback(): Promise<void> {
    this.xid = undefined;
    const client = this.client;
    // A server rolls back the open transaction of a connection it lost: nothing left to do.
    if (!client || this.lost) return;
    try {
      await this.answered(client, this.send(client, 'ROLLBACK'));
    } catch (e) {
      const f = this.failure(e, client);
      if (!(f instanceof MetaUnavailableError)) throw f;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end();
  }

  /** Sends a statement on `client`, in the one write of this turn's statements when it is the current one. */
  private send(client: pg.Client, config: string | pg.QueryConfig): Promise<pg.QueryResult> {
    if (client === this.client) this.batch?.hold();
    return client.query(config as pg.QueryConfig);
  }

  private live(): pg.Client {
    if (this.client && !this.lost) return this.client;
    throw new MetaUnavailableError(`the metadata transaction lost its PostgreSQL connection${this.lastFailure ? ` (${this.lastFailure})` : ''}`);
  }

  private adopt(client: pg.Client): pg.Client {
    const gone = (): void => {
      if (this.client === client) this.lost = true;
    };
    client.on('error', gone);
    client.on('end', gone);
    this.client = client;
    this.batch = new WriteBatch(client.connection.stream);
    this.lost = false;
    this.backoffMs = 0;
    this.retryAt = 0;
    if (this.lostAt !== undefined) this.log?.warn('PostgreSQL metadata: writer reconnected', { afterMs: Date.now() - this.lostAt });
    this.lostAt = undefined;
    return client;
  }

  /** What a failed statement on `client` becomes: its own error, or MetaUnavailableError when the connection is lost. */
  private failure(e: unknown, client: pg.Client): unknown {
    if (!connectionLost(e, this.lost || this.client !== client)) return e;
    if (this.client === client) {
      this.noteLost(messageOf(e));
      this.drop();
    }
    return new MetaUnavailableError(`the metadata transaction lost its PostgreSQL connection: ${messageOf(e)}`, { cause: e });
  }

  /**
   * `pending`, a statement on `client`; if no answer comes within the watchdog's time, the
   * connection is marked lost and its socket destroyed, which fails the statement (and so a
   * COMMIT goes to have its outcome asked).
   */
  private async answered<T>(client: pg.Client, pending: Promise<T>): Promise<T> {
    const watchdog = setTimeout(() => {
      if (this.client === client) this.lost = true;
      this.log?.warn('PostgreSQL metadata: no answer, dropping the writer connection', { afterMs: this.answerTimeoutMs });
      client.connection.stream.destroy();
    }, this.answerTimeoutMs);
    try {
      return await pending;
    } finally {
      clearTimeout(watchdog);
    }
  }

  private noteLost(why: string): void {
    this.lostAt ??= Date.now();
    this.lastFailure = why;
    this.log?.warn('PostgreSQL metadata: writer connection lost', { err: why });
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.batch = undefined;
    this.lost = false;
    void client?.end().catch(() => undefined);
  }

  /** Whether transaction `xid`, whose COMMIT went unanswered, committed: asks a primary until one answers. */
  private async committed(xid: string): Promise<boolean> {
    const deadline = Date.now() + OUTCOME_WAIT_MS;
    for (let pause = 100; ; pause = Math.min(MAX_BACKOFF_MS, pause * 2)) {
      if (this.closed) break;
      let client: pg.Client | undefined;
      try {
        client = this.client && !this.lost ? this.client : this.adopt(await this.locator.connect('fst-master', true));
        const r = await this.answered(client, client.query<{ s: string | null }>('SELECT pg_xact_status($1::xid8) AS s', [xid]));
        const status = r.rows[0]?.s;
        this.log?.warn('PostgreSQL metadata: outcome of a COMMIT whose answer was lost', { xid, status });
        if (status === 'committed') return true;
        if (status === 'aborted') return false;
        // 'in progress': its backend still runs on a server that is still up; ask again.
      } catch (e) {
        if (e instanceof pg.DatabaseError && e.code === INVALID_PARAMETER_VALUE) return false; // never reached this server
        if (client) this.failure(e, client);
      }
      if (Date.now() > deadline) break;
      await sleep(pause);
    }
    throw new FsError('EIO', `whether metadata transaction ${xid} committed is unknown: no PostgreSQL server that takes writes answered within ${OUTCOME_WAIT_MS / 1000} s`);
  }
}
