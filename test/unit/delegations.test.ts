/** The master's table of directory delegations (master/sessions/delegations.ts), alone, on a fake clock. */
import { afterEach, describe, expect, it } from 'vitest';
import { Delegations } from '../../src/master/sessions/delegations.js';

describe('Delegations', () => {
  let clock = 0;
  let d: Delegations;
  const make = (leaseMs = 5000): Delegations => (d = new Delegations(leaseMs, () => clock));
  afterEach(() => d?.close());

  it('grants a directory to one session at a time', () => {
    make();
    expect(d.acquire('a', [10, 11])).toEqual([10, 11]);
    expect(d.acquire('b', [10, 12])).toEqual([12]);
    expect(d.heldByOther('b', 10)).toBe(true);
    expect(d.heldByOther('a', 10)).toBe(false);
    d.release('a', [10]);
    expect(d.acquire('b', [10])).toEqual([10]);
  });

  it('recalls a directory before another caller runs in it, and tells the holder', async () => {
    make();
    d.acquire('a', [10]);
    const poll = d.awaitRecall('a', 60_000);
    let ran = false;
    const call = d.during('b', [10], true, () => {
      ran = true;
      return Promise.resolve('done');
    });
    expect(await poll).toEqual([10]);
    expect(d.recalledOf('a')).toEqual([10]);
    // Recalled: not granted again to its holder until given back.
    expect(d.acquire('a', [10])).toEqual([]);
    await Promise.resolve();
    expect(ran).toBe(false);
    d.release('a', [10]);
    expect(await call).toBe('done');
    expect(ran).toBe(true);
  });

  it('lets the holder run in its own directories without waiting', async () => {
    make();
    d.acquire('a', [10]);
    expect(await d.during('a', [10], true, () => Promise.resolve(1))).toBe(1);
    expect(await d.during('', [11], false, () => Promise.resolve(2))).toBe(2);
  });

  it('grants nothing in a directory another caller is changing', async () => {
    make();
    let finish!: () => void;
    const call = d.during('b', [10], true, () => new Promise<void>((r) => (finish = r)));
    await Promise.resolve();
    expect(d.acquire('a', [10])).toEqual([]);
    finish();
    await call;
    expect(d.acquire('a', [10])).toEqual([10]);
  });

  it('holds every change back for half a lease after a restart (mounts may still trust what the master before granted)', async () => {
    d = new Delegations(1000, Date.now, true);
    const t0 = Date.now();
    expect(await d.during('b', [10], false, () => Promise.resolve('a read runs at once'))).toBe('a read runs at once');
    expect(Date.now() - t0).toBeLessThan(500);
    await d.during('b', [10], true, () => Promise.resolve());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it('makes the session an unknown inode number was reserved for send its changes first', async () => {
    make();
    d.reservedFor('a', 100, 10);
    d.acquire('a', [10]);
    expect(d.flushMaker('b', 200)).toBeUndefined();
    expect(d.flushMaker('a', 105)).toBeUndefined();
    const flushed = d.flushMaker('b', 105);
    expect(flushed).toBeDefined();
    expect(await d.awaitRecall('a', 60_000)).toEqual([10]);
    d.release('a', [10]);
    await flushed;
  });

  it('drops the delegations of a session silent for longer than the lease, and wakes who waited', async () => {
    make(1000);
    d.acquire('a', [10]);
    const call = d.during('b', [10], true, () => Promise.resolve('after the lease'));
    clock += 999;
    d.expire();
    expect(d.heldByOther('b', 10)).toBe(true);
    clock += 2;
    d.expire();
    expect(d.heldByOther('b', 10)).toBe(false);
    expect(await call).toBe('after the lease');
  });
});
