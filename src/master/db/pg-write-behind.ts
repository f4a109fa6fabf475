/**
 * Writes the working copy's committed changes (row-changes.ts) to PostgreSQL, in order, one
 * PostgreSQL transaction at a time: while one is under way the commits after it gather, and go
 * together in the next (a row changed by several of them is sent once, as it last was). Each
 * transaction is one query, BEGIN to COMMIT, sent as one message with its values written out
 * (escaped here): each table's deleted keys in one DELETE and its other rows in one multi-row
 * upsert. One round trip, and none of the extended protocol's per-statement messages: a create's
 * transaction costs about 200 µs of both sides' CPU this way, against 600 µs as prepared
 * statements with parameters.
 *
 * Durability: a transaction holding no `durable` commit (what an fsync waits for) commits with
 * synchronous_commit=off: PostgreSQL has it in memory and writes its WAL within a fraction of a
 * second, so it survives a master crash or kill but not a crash of the database server: SQLite's
 * contract with the default --sync normal. One holding a durable commit uses the server's own
 * setting (on by default, or a synchronous standby's), and so also flushes everything before it.
 *
 * Several masters (master/ha/): each transaction checks the master lease first (guard.sql,
 * which raises LEASE_LOST and so aborts it when another master took over).
 *
 * A transaction that fails, or whose answer is lost, leaves PostgreSQL behind the working copy
 * (or unknown), and everything after it with it: the failure is final (`failed`), every commit
 * waiting is refused with it, and the engine's owner starts again from what PostgreSQL has
 * (pg-working-copy.ts). The connection is this module's own and is never made again.
 */
import pg from 'pg';
import type { Logger } from '../../common/log/logger.js';
import type { SqlValue, WriteGuard } from './engine.js';
import { FsError } from '../../common/errors/errno.js';
import { MetaUnavailableError } from './pg-errors.js';
import type { PrimaryLocator } from './pg-primary.js';
import { mergeChanges, type RowChanges, type TableShape } from './row-changes.js';
import { LEASE_LOST } from '../ha/lease-table.js';

interface Waiting {
  changes: RowChanges;
  durable: boolean;
  done: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function waiting(changes: RowChanges, durable: boolean): Waiting {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
  // Nobody may be waiting yet (a commit's acknowledgement takes it later): not an unhandled rejection.
  done.catch(() => undefined);
  return { changes, durable, done, resolve, reject };
}

/** A value as an SQL literal: E'' strings (whatever standard_conforming_strings says), bytes as bytea hex. */
export function sqlLiteral(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} to PostgreSQL`);
    return String(v);
  }
  if (Buffer.isBuffer(v)) return `E'\\\\x${v.toString('hex')}'::bytea`;
  return `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A row (or key) as a parenthesized list of literals. */
const tuple = (values: SqlValue[]): string => `(${values.map(sqlLiteral).join(', ')})`;

/** Each table's DELETE and upsert, around their lists of keys and rows. */
function tableStatements(t: TableShape): { remove: (keys: string[]) => string; upsert: (rows: string[]) => string } {
  const rest = t.columns.filter((c) => !t.key.includes(c));
  const key = t.key.join(', ');
  const onConflict = rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
  const keyOf = t.key.length === 1 ? key : `(${key})`;
  return {
    remove: (keys) => `DELETE FROM ${t.name} WHERE ${keyOf} IN (${keys.join(', ')})`,
    upsert: (rows) => `INSERT INTO ${t.name} (${t.columns.join(', ')}) VALUES ${rows.join(', ')} ON CONFLICT (${key}) ${onConflict}`,
  };
}

/**
 * Transactions sent before the one before them answered (node-pg's pipeline mode): PostgreSQL runs
 * them in order, and the next one's rows travel while the server works on the last, so the master
 * and the server work side by side. A failed one leaves the session's transaction aborted, so the
 * ones sent behind it fail too and nothing after a failure commits.
 */
const IN_FLIGHT = 2;

/**
 * A transaction unanswered this long has its connection dropped: a server cut off by the network
 * sends no reset, and TCP alone would wait a quarter of an hour. Longer than any wait a healthy
 * primary imposes (a COMMIT held for a synchronous standby until pg_auto_failover gives up on it,
 * about 30 s).
 */
export const ANSWER_TIMEOUT_MS = 60_000;

export class PgWriteBehind {
  private readonly statements: Map<string, ReturnType<typeof tableStatements>>;
  /** Commits gathered while IN_FLIGHT transactions are under way: the next one. */
  private next: Waiting | undefined;
  /** The transactions under way, oldest first. */
  private readonly inFlight: Waiting[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Set once a transaction failed: PostgreSQL is behind the working copy for good. */
  failed: FsError | undefined;
  private readonly failedListeners: ((e: FsError) => void)[] = [];
  /** The lease check of several masters (master/ha/). */
  guard: WriteGuard | undefined;
  private lost = false;

  private constructor(
    private readonly client: pg.Client,
    shapes: TableShape[],
    private readonly answerTimeoutMs: number,
    /** The server's own synchronous_commit, for durable transactions. */
    private readonly durableCommit: string,
    private readonly log?: Logger,
  ) {
    this.statements = new Map(shapes.map((s) => [s.name, tableStatements(s)]));
    const gone = (): void => {
      this.lost = true;
    };
    client.on('error', gone);
    client.on('end', gone);
  }

  /**
   * On a connection of its own (pipeline mode) to the server that takes writes. The session
   * commits without waiting for the WAL's flush; a durable transaction sets back, for itself, what
   * the server (or the role, or the database) had configured.
   */
  static async open(locator: PrimaryLocator, shapes: TableShape[], log?: Logger, answerTimeoutMs = ANSWER_TIMEOUT_MS): Promise<PgWriteBehind> {
    const client = await locator.connect('fst-master', true);
    try {
      const configured = (await client.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s")).rows[0]?.s ?? 'on';
      if (!/^[a-z_]+$/.test(configured)) throw new Error(`unexpected synchronous_commit setting ${JSON.stringify(configured)}`);
      await client.query('SET synchronous_commit TO off');
      return new PgWriteBehind(client, shapes, answerTimeoutMs, configured, log);
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
  }

  /**
   * A commit's changes (or none): resolves once PostgreSQL has them and everything committed
   * before them (with `durable`, as durably as the server commits by default).
   */
  add(changes: RowChanges | undefined, durable: boolean): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (!changes) {
      // Nothing to write: answered in order, after whatever is on its way.
      if (!durable) return (this.next ?? this.inFlight[this.inFlight.length - 1])?.done ?? Promise.resolve();
      changes = new Map();
    }
    if (this.next) {
      mergeChanges(this.next.changes, changes);
      this.next.durable ||= durable;
    } else {
      this.next = waiting(changes, durable);
    }
    const done = this.next.done;
    this.pump();
    return done;
  }

  /** Called once, when a transaction fails (the working copy can no longer be trusted). */
  onFailed(listener: (e: FsError) => void): void {
    this.failedListeners.push(listener);
  }

  /** Resolves once nothing is waiting to be sent or answered. */
  idle(): Promise<void> {
    if (this.inFlight.length === 0 && !this.next) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    await this.idle();
    await this.client.end().catch(() => undefined);
  }

  private pump(): void {
    while (this.next && !this.failed && this.inFlight.length < IN_FLIGHT) {
      const w = this.next;
      this.next = undefined;
      this.inFlight.push(w);
      this.send(w).then(() => {
        // Answers come in the order sent: this one is the oldest.
        this.inFlight.shift();
        w.resolve();
        this.pump();
        this.settleIdle();
      }, (e: unknown) => this.fail(e));
    }
  }

  private settleIdle(): void {
    if (this.inFlight.length > 0 || this.next) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of waiters) r();
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    const why = e instanceof Error ? e.message : String(e);
    // An errno from where it arose stays (the lease guard's EAGAIN: another master is active); a
    // database error is the database being unavailable to this master.
    const failure = e instanceof FsError ? e : new MetaUnavailableError(`the metadata could not be written to PostgreSQL: ${why}`, { cause: e });
    // Transactions sent whose connection went before their answer came may have committed; one
    // PostgreSQL answered with an error, or refused by the guard, did not, nor any behind it.
    const answered = e instanceof FsError || e instanceof pg.DatabaseError;
    const unknown = answered ? failure : new MetaUnavailableError(`the metadata transaction's outcome is unknown: ${why}`, { cause: e, maybeApplied: true });
    this.failed = failure;
    this.log?.warn('PostgreSQL metadata: a write-behind transaction failed', { err: why });
    for (const w of this.inFlight.splice(0)) w.reject(unknown);
    this.next?.reject(failure);
    this.next = undefined;
    this.settleIdle();
    void this.client.end().catch(() => undefined);
    for (const l of this.failedListeners) l(failure);
  }

  /** One transaction, BEGIN to COMMIT, as one query. */
  private async send(w: Waiting): Promise<void> {
    if (this.lost) throw new MetaUnavailableError('the write-behind connection to PostgreSQL was lost');
    const parts = ['BEGIN'];
    if (this.guard) parts.push(this.guard.sql());
    if (w.durable) {
      parts.push(`SET LOCAL synchronous_commit TO ${this.durableCommit}`);
      // PostgreSQL flushes (and replicates) a COMMIT only when its transaction wrote something: a
      // durable one with nothing of its own (an fsync) rewrites a row as it is, which makes
      // everything committed before it as durable.
      if (w.changes.size === 0) parts.push("UPDATE counters SET value = value WHERE name = 'files'");
    }
    const upserts: string[] = [];
    for (const [table, rows] of w.changes) {
      const s = this.statements.get(table);
      if (!s) continue;
      const gone: string[] = [];
      const kept: string[] = [];
      for (const [k, row] of rows) {
        if (row === null) gone.push(tuple(JSON.parse(k) as SqlValue[]));
        else kept.push(tuple(row));
      }
      // Every table's deletes before any upsert: a row deleted may hold a UNIQUE value a new one takes.
      if (gone.length) parts.push(s.remove(gone));
      if (kept.length) upserts.push(s.upsert(kept));
    }
    parts.push(...upserts, 'COMMIT');
    try {
      await this.answered(this.client.query(parts.join(';\n')));
    } catch (e) {
      if ((e as { code?: string }).code === LEASE_LOST && this.guard) throw this.guard.refused();
      throw e;
    }
  }

  /** `pending`, unless no answer comes for answerTimeoutMs (a server cut off sends no reset): the connection is then dropped. */
  private async answered<T>(pending: Promise<T>): Promise<T> {
    const watchdog = setTimeout(() => {
      this.log?.warn('PostgreSQL metadata: no answer, dropping the write-behind connection', { afterMs: this.answerTimeoutMs });
      this.client.connection.stream.destroy();
    }, this.answerTimeoutMs);
    try {
      return await pending;
    } finally {
      clearTimeout(watchdog);
    }
  }
}
