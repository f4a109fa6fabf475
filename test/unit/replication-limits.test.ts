import { describe, expect, it } from 'vitest';
import { RetryBackoff } from '../../src/master/chunks/retry-backoff.js';
import { TokenBucket } from '../../src/master/chunks/token-bucket.js';

describe('TokenBucket', () => {
  it('starts with a second of budget, goes into debt by what was charged, and refills at the rate', () => {
    let t = 0;
    const b = new TokenBucket(100, 1_000, () => t);
    expect(b.available()).toBe(100);
    expect(b.waitMs()).toBe(0);
    b.charge(250);
    expect(b.available()).toBe(-150);
    expect(b.waitMs()).toBe(1_500);
    t += 1_500;
    expect(b.waitMs()).toBe(0);
    t += 60_000;
    expect(b.available()).toBe(100); // capped at the burst
  });

  it('ready() waits out the debt and rejects on abort', async () => {
    const b = new TokenBucket(1_000_000);
    b.charge(1_000_000 + 20_000); // 20 ms of debt
    const t0 = Date.now();
    await b.ready(new AbortController().signal);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    b.charge(10_000_000);
    const ac = new AbortController();
    const p = b.ready(ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow();
  });
});

describe('RetryBackoff', () => {
  it('doubles the wait per consecutive failure up to the cap, and forgets on success', () => {
    const b = new RetryBackoff<number>(1_000, 5_000);
    b.fail(7, 0);
    expect(b.blocked(7, 999)).toBe(true);
    expect(b.blocked(7, 1_000)).toBe(false);
    b.fail(7, 1_000);
    expect(b.blocked(7, 2_999)).toBe(true);
    b.fail(7, 3_000);
    b.fail(7, 3_000);
    expect(b.failures(7)).toBe(4);
    expect(b.blocked(7, 3_000 + 5_000)).toBe(false); // capped at 5 s, not 8 s
    b.succeed(7);
    expect(b.failures(7)).toBe(0);
    expect(b.blocked(7, 3_000)).toBe(false);
  });

  it('keeps at most maxKeys entries, dropping the oldest', () => {
    const b = new RetryBackoff<number>(1_000, 5_000, 2);
    b.fail(1, 0);
    b.fail(2, 0);
    b.fail(3, 0);
    expect(b.failures(1)).toBe(0);
    expect([b.blocked(1, 0), b.blocked(2, 0), b.blocked(3, 0)]).toEqual([false, true, true]);
  });
});
