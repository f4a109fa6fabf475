/**
 * The write-back memory of a whole mount: every open file's buffered and in-flight bytes count
 * against one limit. A write that would pass it waits until some flush completes (backpressure),
 * so a thousand files written at once cannot take a thousand times a file's budget.
 */
import { Notifier } from '../concurrency.js';

export class MemoryBudget {
  private used = 0;
  private readonly freed = new Notifier();

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  /** True when `n` more bytes fit now. */
  fits(n: number): boolean {
    return this.used + n <= this.limit || this.used === 0;
  }

  take(n: number): void {
    this.used += n;
  }

  give(n: number): void {
    this.used -= n;
    this.freed.notify();
  }

  /** Resolves at the next release of memory anywhere in the mount. */
  waitForRelease(): Promise<void> {
    return this.freed.wait();
  }
}
