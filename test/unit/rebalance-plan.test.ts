import { describe, expect, it } from 'vitest';
import { applyMove, bytesToMove, helps, isBalanced, maxDeviation, meanUse, movePairs, type ServerLoad } from '../../src/master/chunks/rebalance-plan.js';

const GiB = 1024 ** 3;
const server = (id: number, usedGiB: number, capacityGiB = 100): ServerLoad => ({ id, used: usedGiB * GiB, capacity: capacityGiB * GiB });

describe('rebalance plan', () => {
  it('measures use as a fraction of capacity, so a big disk holds more at the same use', () => {
    const s = [server(1, 50, 100), server(2, 100, 200)];
    expect(meanUse(s)).toBeCloseTo(0.5);
    expect(maxDeviation(s)).toBeCloseTo(0);
    expect(isBalanced(s, 0.1)).toBe(true);
    expect(movePairs(s, 0.1)).toEqual([]);
  });

  it('is balanced only when every server is within threshold x mean of the mean', () => {
    const s = [server(1, 30), server(2, 30), server(3, 30), server(4, 0)];
    expect(meanUse(s)).toBeCloseTo(0.225);
    expect(maxDeviation(s)).toBeCloseTo(1); // the empty server is a whole mean away
    expect(isBalanced(s, 0.1)).toBe(false);
    expect(bytesToMove(s)).toBe(Math.round(3 * 7.5 * GiB));
    expect(isBalanced([server(1, 10.9), server(2, 9.1)], 0.1)).toBe(true);
    expect(isBalanced([server(1, 11.2), server(2, 8.8)], 0.1)).toBe(false);
    expect(isBalanced([], 0.1)).toBe(true);
  });

  it('pairs the fullest servers with the emptiest, fullest first', () => {
    const pairs = movePairs([server(1, 40), server(2, 30), server(3, 10), server(4, 0)], 0.1);
    expect(pairs[0]).toEqual({ source: 1, target: 4 });
    expect(pairs).toContainEqual({ source: 2, target: 3 });
    expect(pairs.every((p) => [1, 2].includes(p.source) && [3, 4].includes(p.target))).toBe(true);
  });

  it('moves only what brings a pair closer without crossing over, and tracks the estimates', () => {
    const s = server(1, 40);
    const t = server(2, 10);
    expect(helps(s, t, 10 * GiB)).toBe(true);
    expect(helps(s, t, 15 * GiB)).toBe(true); // meet in the middle
    expect(helps(s, t, 16 * GiB)).toBe(false); // the target would end above the source
    expect(helps(s, t, 0)).toBe(false);
    applyMove(s, t, 10 * GiB);
    expect([s.used, t.used]).toEqual([30 * GiB, 20 * GiB]);
  });
});
