/**
 * A byte budget refilled at a fixed rate (re-replication's bandwidth limit). Work is charged after
 * the fact with what it really moved, so the budget may go negative; new work waits until it is
 * back to zero. At most `burstMs` worth of budget accumulates while nothing runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly bytesPerSec: number,
    private readonly burstMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = this.cap;
    this.at = now();
  }

  private get cap(): number {
    return (this.bytesPerSec * this.burstMs) / 1_000;
  }

  /** The budget now (negative: in debt). */
  available(): number {
    const t = this.now();
    this.tokens = Math.min(this.cap, this.tokens + ((t - this.at) * this.bytesPerSec) / 1_000);
    this.at = t;
    return this.tokens;
  }

  charge(bytes: number): void {
    this.available();
    this.tokens -= bytes;
  }

  /** Milliseconds until the budget is back to zero. */
  waitMs(): number {
    const debt = -this.available();
    return debt > 0 ? Math.ceil((debt * 1_000) / this.bytesPerSec) : 0;
  }

  /** Resolves once the budget is non-negative; rejects when `signal` aborts. */
  async ready(signal: AbortSignal): Promise<void> {
    for (let ms = this.waitMs(); ms > 0; ms = this.waitMs()) await sleep(ms, undefined, { signal });
    signal.throwIfAborted();
  }
}
