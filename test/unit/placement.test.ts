import { describe, expect, it } from 'vitest';
import { chooseServers } from '../../src/master/chunks/placement.js';

const GiB = 1024 ** 3;
const fixed = (): number => 0.5;

describe('chooseServers', () => {
  it('picks distinct servers, most free fraction first', () => {
    const r = chooseServers([
      { id: 1, capacity: 100 * GiB, free: 10 * GiB, load: 0 },
      { id: 2, capacity: 100 * GiB, free: 90 * GiB, load: 0 },
      { id: 3, capacity: 10 * GiB, free: 8 * GiB, load: 0 },
    ], 2, new Set(), fixed);
    expect(r.chosen).toEqual([2, 3]);
    expect(new Set(r.chosen).size).toBe(2);
  });

  it('skips full servers and excluded ones, and reports how many were full', () => {
    const r = chooseServers([
      { id: 1, capacity: 100 * GiB, free: 1024, load: 0 },
      { id: 2, capacity: 100 * GiB, free: 50 * GiB, load: 0 },
      { id: 3, capacity: 100 * GiB, free: 60 * GiB, load: 0 },
    ], 3, new Set([3]), fixed);
    expect(r.chosen).toEqual([2]);
    expect(r.full).toBe(1);
  });

  it('prefers the less loaded of two equally free servers', () => {
    const r = chooseServers([
      { id: 1, capacity: GiB, free: GiB / 2, load: 20 },
      { id: 2, capacity: GiB, free: GiB / 2, load: 0 },
    ], 1, new Set(), fixed);
    expect(r.chosen).toEqual([2]);
  });

  it('spreads chunks over equal servers thanks to jitter', () => {
    const servers = [1, 2, 3].map((id) => ({ id, capacity: GiB, free: GiB, load: 0 }));
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) for (const id of chooseServers(servers, 2).chosen) seen.add(id);
    expect(seen.size).toBe(3);
  });
});
