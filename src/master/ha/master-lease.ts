/**
 * The active master's lease in PostgreSQL (lease-table.ts), held by one master process among those
 * sharing the database: `acquire` waits as a standby until the lease is free (expired by the
 * database's clock) and takes it; then it is renewed every `ttlMs / 5`.
 *
 * Fencing: the holder counts its lease from when it SENT each successful renewal, by its own
 * monotonic clock. The database counts the same lease from when it ran the statement (later), so
 * the holder's reckoning ends first; at `ttlMs - marginMs` after the last renewal sent (a renewal
 * that failed, hung, or found the lease taken) the holder is fenced: `onLost` runs once and the
 * master stops serving. Independently, each metadata transaction checks and locks the lease row
 * (holderRequiredSql), so that a master cut off from everyone but the database, or stalled past its
 * own deadline, can never commit after a takeover.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/log/logger.js';
import { LeaseConnection } from './lease-connection.js';
import { FORGET, FORGET_PREDECESSORS, FORGET_STALE, HOLDER, MASTERS, RELEASE, RENEW, SEEN, TAKE_OVER, TAKE_OVER_OWN, ensureLeaseTables, holderRequiredSql } from './lease-table.js';

export interface MasterLeaseOptions {
  /** postgres:// URL of the metadata database. */
  url: string;
  /** The address clients reach this master at (recorded for status and for standbys' answers). */
  address: string;
  /** How long a lease runs without renewal, by the database's clock. @default 5000 */
  ttlMs?: number;
  log: Logger;
}

/** Slack for clock rate differences and a slow event loop: the holder fences itself this much early. */
const MARGIN_FRACTION = 0.2;

export class MasterLease {
  /** This master process, in the lease row and fst_masters. */
  readonly holder = randomUUID();
  readonly ttlMs: number;
  private epochHeld = 0;
  /** performance.now() until which the lease is surely ours (0: not held). */
  private validUntil = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private fenceTimer: NodeJS.Timeout | undefined;
  private lostHandlers: ((why: string) => void)[] = [];
  private lost = false;
  private lostWhy = '';
  private closed = false;
  /** Where clients reach this master (set once its port is bound). */
  address: string;
  /** The active master's address as last read by this standby (undefined: none running). */
  activeAddress: string | undefined;

  private constructor(private readonly client: LeaseConnection, private readonly o: MasterLeaseOptions) {
    this.ttlMs = o.ttlMs ?? 5_000;
    this.address = o.address;
  }

  static async open(o: MasterLeaseOptions): Promise<MasterLease> {
    const client = new LeaseConnection(o.url, o.ttlMs ?? 5_000, o.log);
    try {
      await ensureLeaseTables(await client.connection());
    } catch (e) {
      await client.close();
      throw e;
    }
    return new MasterLease(client, o);
  }

  /** The epoch of the lease held (0: none yet). */
  get epoch(): number {
    return this.epochHeld;
  }

  /** Whether the lease is held now by this process's own reckoning. */
  get held(): boolean {
    return !this.lost && this.epochHeld > 0 && performance.now() < this.validUntil;
  }

  /** What each metadata transaction runs first: it raises LEASE_LOST unless this master still holds the lease (lease-table.ts). */
  holderRequired(): string {
    return holderRequiredSql(this.holder, this.epochHeld);
  }

  /** Runs `fn` once when the lease is lost (not renewed in time, or taken); at once if it already was. */
  onLost(fn: (why: string) => void): void {
    if (this.lost) queueMicrotask(() => fn(this.lostWhy));
    else this.lostHandlers.push(fn);
  }

  /**
   * Tries once to take the lease; true when taken. A standby calls it every poll; it also records
   * this master in fst_masters. `ownAddress`: also take it from a holder at this master's address
   * (see TAKE_OVER_OWN: the caller has bound that address, so that holder is gone).
   */
  async tryAcquire(ownAddress = false): Promise<boolean> {
    if (ownAddress) await this.client.query(FORGET_PREDECESSORS, [this.holder, this.address]);
    await this.client.query(SEEN, [this.holder, this.address]);
    const sent = performance.now();
    let r = await this.client.query<{ epoch: string }>(TAKE_OVER, [this.holder, this.address, this.ttlMs]);
    if (!r.rows[0] && ownAddress) r = await this.client.query<{ epoch: string }>(TAKE_OVER_OWN, [this.holder, this.address, this.ttlMs]);
    const row = r.rows[0];
    if (!row) {
      const h = (await this.client.query<{ address: string; running: boolean }>(HOLDER)).rows[0];
      this.activeAddress = h?.running ? h.address : undefined;
      return false;
    }
    this.activeAddress = this.address;
    this.epochHeld = Number(row.epoch);
    this.validUntil = sent + this.ttlMs * (1 - MARGIN_FRACTION);
    this.startRenewing();
    this.o.log.info('took the master lease: this master is active', { epoch: this.epochHeld, ttlMs: this.ttlMs });
    return true;
  }

  /** Polls every tenth of the lease until it is taken (see tryAcquire); rejects once `signal` aborts. */
  async acquire(signal: AbortSignal, ownAddress: boolean): Promise<void> {
    const pollMs = Math.max(100, Math.floor(this.ttlMs / 10));
    while (!signal.aborted) {
      try {
        if (await this.tryAcquire(ownAddress)) return;
      } catch (err) {
        this.o.log.warn('asking for the master lease failed; asking again', { err });
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error('stopped while waiting for the master lease');
  }

  private startRenewing(): void {
    const every = Math.max(50, Math.floor(this.ttlMs / 5));
    const renew = async (): Promise<void> => {
      const sent = performance.now();
      try {
        const r = await this.client.query(RENEW, [this.holder, this.epochHeld, this.ttlMs, this.address]);
        if (r.rowCount !== 1) return this.lose('the lease was taken by another master');
        this.validUntil = Math.max(this.validUntil, sent + this.ttlMs * (1 - MARGIN_FRACTION));
        await this.client.query(SEEN, [this.holder, this.address]);
        await this.client.query(FORGET_STALE, [2 * this.ttlMs]);
      } catch (err) {
        this.o.log.warn('renewing the master lease failed', { err });
      }
    };
    const loop = (): void => {
      if (this.lost || this.closed) return;
      void renew().finally(() => {
        if (!this.lost && !this.closed) this.renewTimer = setTimeout(loop, every);
      });
    };
    this.renewTimer = setTimeout(loop, every);
    // The fence: checked often, whatever the renewals are doing (a hung one included).
    this.fenceTimer = setInterval(() => {
      if (performance.now() >= this.validUntil) this.lose(`the lease was not renewed within ${Math.round(this.ttlMs * (1 - MARGIN_FRACTION))} ms`);
    }, Math.max(20, Math.floor(this.ttlMs / 50)));
  }

  /** Marks the lease lost (once) and tells the handlers. */
  lose(why: string): void {
    if (this.lost) return;
    this.lost = true;
    this.lostWhy = why;
    clearTimeout(this.renewTimer);
    clearInterval(this.fenceTimer);
    this.o.log.error('lost the master lease: this master stops serving', { why, epoch: this.epochHeld });
    for (const fn of this.lostHandlers) fn(why);
  }

  /** The masters sharing the database, as `fstadmin status` shows them (the active one first). */
  async masters(): Promise<{ address: string; role: 'active' | 'standby'; leaseAgeMs: number; epoch: number }[]> {
    const r = await this.client.query<{ address: string; active: boolean; epoch: string; age_ms: string }>(MASTERS, [2 * this.ttlMs]);
    return r.rows.map((m) => ({ address: m.address, role: m.active ? 'active' : 'standby', leaseAgeMs: Number(m.age_ms), epoch: m.active ? Number(m.epoch) : 0 }));
  }

  /** Ends the lease at once if still held (a standby then takes over without waiting) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.renewTimer);
    clearInterval(this.fenceTimer);
    if (this.epochHeld > 0 && !this.lost) await this.client.query(RELEASE, [this.holder, this.epochHeld]).catch(() => undefined);
    await this.client.query(FORGET, [this.holder]).catch(() => undefined);
    await this.client.close();
  }
}
