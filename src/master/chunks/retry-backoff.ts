/**
 * Exponential backoff per key after consecutive failures (a chunk whose copies keep failing, a
 * target that keeps refusing), so that one bad chunk or server is never retried in a tight loop.
 * Bounded: beyond `maxKeys` the oldest entries are dropped (they merely get retried sooner).
 */
export class RetryBackoff<K> {
  private readonly entries = new Map<K, { failures: number; until: number }>();

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Consecutive failures recorded for `key`. */
  failures(key: K): number {
    return this.entries.get(key)?.failures ?? 0;
  }

  blocked(key: K, now: number): boolean {
    const e = this.entries.get(key);
    return !!e && e.until > now;
  }

  fail(key: K, now: number): void {
    const failures = this.failures(key) + 1;
    this.entries.delete(key); // re-inserted last: Map order is the eviction order
    this.entries.set(key, { failures, until: now + Math.min(this.maxMs, this.baseMs * 2 ** Math.min(failures - 1, 30)) });
    if (this.entries.size > this.maxKeys) this.entries.delete(this.entries.keys().next().value as K);
  }

  succeed(key: K): void {
    this.entries.delete(key);
  }
}
