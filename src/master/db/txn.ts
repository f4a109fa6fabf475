/**
 * The master's single writer queue. All mutations go through `write`, one at a time on the writer
 * connection. Mutations that arrive while a commit is in progress are grouped: one BEGIN IMMEDIATE
 * ... COMMIT holds several, each inside its own SAVEPOINT, so each stays atomic (a failing one rolls
 * back alone) while they share one fsync (group commit). A mutation is acknowledged only after the
 * COMMIT that holds it succeeded; a durable one (what an fsync waits for) only once that commit is
 * also on disk: the queue then syncs the write-ahead log (`syncLog`) after the COMMIT, one sync for
 * every durable mutation of the group, while the next group already runs. An engine may also hold
 * every group's acknowledgement until its commit is elsewhere (`afterCommit`: the PostgreSQL
 * engine's write-behind), the next group running meanwhile all the same.
 */
import type { EngineWriter, Tx } from './engine.js';

interface Pending {
  body: (tx: Tx) => Promise<unknown>;
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const MAX_GROUP = 256;

export class WriteQueue {
  private readonly queue: Pending[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly conn: EngineWriter,
    /**
     * Run after each COMMIT (`durable`: the group holds a durable mutation that succeeded); the
     * group is acknowledged when what it answers resolves (SQLite: the fsync of its log, for a
     * durable group; PostgreSQL: the commit in the database). Undefined: acknowledged at once.
     */
    private readonly afterCommit?: (durable: boolean) => Promise<void> | undefined,
    /** Told after each COMMIT (the engine's data version). */
    private readonly onCommit: () => void = () => undefined,
    /** A failed afterCommit fails every mutation of the group, not only the durable ones (PostgreSQL). */
    private readonly afterCommitHoldsAll = false,
  ) {}

  /**
   * Runs `body` as one atomic mutation; resolves with its result once committed (and with
   * `durable`, once the commit is on disk).
   */
  write<T>(body: (tx: Tx) => Promise<T>, opts: { durable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ body, durable: opts.durable === true, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) void this.drain();
    });
  }

  /** afterCommit's waits under way. */
  private readonly syncs = new Set<Promise<void>>();

  /** Resolves when no mutation is queued or running, nor any afterCommit wait (for shutdown). */
  async idle(): Promise<void> {
    if (this.running || this.queue.length > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    await Promise.all([...this.syncs]);
  }

  /** One mutation alone in its transaction: no savepoint, a failure rolls back the transaction. */
  private async runAlone(p: Pending, outcomes: { ok: boolean; value: unknown }[]): Promise<void> {
    let value: unknown;
    try {
      value = await p.body(this.conn);
    } catch (e) {
      await this.conn.rollback();
      outcomes.push({ ok: false, value: e });
      return;
    }
    await this.conn.commit();
    outcomes.push({ ok: true, value });
  }

  /** Several mutations in one transaction, each in its own savepoint. */
  private async runGroup(group: Pending[], outcomes: { ok: boolean; value: unknown }[]): Promise<void> {
    for (const p of group) {
      await this.conn.savepoint();
      try {
        const value = await p.body(this.conn);
        await this.conn.release();
        outcomes.push({ ok: true, value });
      } catch (e) {
        await this.conn.rollbackToSavepoint();
        await this.conn.release();
        outcomes.push({ ok: false, value: e });
      }
    }
    await this.conn.commit();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, MAX_GROUP);
      const outcomes: { ok: boolean; value: unknown }[] = [];
      try {
        await this.conn.begin();
        if (group.length === 1) await this.runAlone(group[0]!, outcomes);
        else await this.runGroup(group, outcomes);
      } catch (e) {
        // BEGIN or COMMIT failed: nothing in this group is durable.
        await this.conn.rollback().catch(() => undefined);
        for (const p of group) p.reject(e);
        continue;
      }
      this.onCommit();
      // A failed sync fails the durable mutations (SQLite: the others are committed all the same);
      // a failed afterCommit of an engine that holds every acknowledgement (`all`) fails them all.
      const settle = (syncError: unknown, all = false): void => group.forEach((p, i) => {
        const o = outcomes[i];
        if (!o?.ok) p.reject(o?.value);
        else if ((p.durable || all) && syncError !== undefined) p.reject(syncError);
        else p.resolve(o.value);
      });
      const durable = group.some((p, i) => p.durable && outcomes[i]?.ok);
      const after = this.afterCommit?.(durable);
      if (after) {
        // The next group may commit meanwhile; it waits for an afterCommit of its own.
        const sync = after.then(() => settle(undefined), (e: unknown) => settle(e ?? new Error('log sync failed'), this.afterCommitHoldsAll));
        this.syncs.add(sync);
        void sync.finally(() => this.syncs.delete(sync));
      } else {
        settle(undefined);
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
