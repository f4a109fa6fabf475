import { describe, expect, it } from 'vitest';
import { assess, compareWork, PassPlan, serverState, surplus, type ChunkState, type ServerState } from '../../src/master/chunks/replication-plan.js';

const states = (m: Record<number, ServerState>) => (id: number): ServerState => m[id] ?? 'gone';
const chunk = (chunkId: number, replicas: [number, number][], o: Partial<ChunkState> = {}): ChunkState => ({
  chunkId, ino: 100 + chunkId, idx: 0, version: 5, goal: 2, fileSize: 1024, leased: false, replicas: replicas.map(([serverId, version]) => ({ serverId, version })), ...o,
});

describe('serverState', () => {
  const base = { alive: false, startedMs: 1_000, now: 100_000, replaceAfterMs: 10_000 };
  it('gives a silent server replaceAfterMs to come back, counted from its last heartbeat', () => {
    expect(serverState({ ...base, alive: true, lastHeartbeatMs: 0 })).toBe('alive');
    expect(serverState({ ...base, lastHeartbeatMs: 95_000 })).toBe('waiting');
    expect(serverState({ ...base, lastHeartbeatMs: 90_000 })).toBe('gone');
  });
  it('counts silence from the master start at the earliest (a fresh master knows nobody)', () => {
    expect(serverState({ ...base, startedMs: 95_000, lastHeartbeatMs: 0 })).toBe('waiting');
    expect(serverState({ ...base, startedMs: 95_000, lastHeartbeatMs: 10 })).toBe('waiting');
    expect(serverState({ ...base, startedMs: 80_000, lastHeartbeatMs: 0 })).toBe('gone');
  });
});

describe('assess', () => {
  it('counts current replicas on alive and waiting servers; only alive ones are sources', () => {
    const a = assess(chunk(1, [[1, 5], [2, 5], [3, 5], [4, 4], [5, 4]], { goal: 3 }), states({ 1: 'alive', 2: 'waiting', 3: 'gone', 4: 'alive', 5: 'gone' }));
    expect(a.usable).toBe(2);
    expect(a.sources).toEqual([1]);
    expect([...a.holders].sort()).toEqual([1, 2, 3]);
    // Stale replicas on alive servers only: a dead server's rows wait for its report.
    expect(a.staleOnAlive).toEqual([{ serverId: 4, version: 4 }]);
  });
});

describe('PassPlan', () => {
  const targets = [1, 2, 3, 4];
  const alive = states({ 1: 'alive', 2: 'alive', 3: 'alive', 4: 'alive' });

  it('puts chunks with one usable replica before those with two, then by chunk id', () => {
    const plan = new PassPlan(100);
    plan.add(assess(chunk(10, [[1, 5], [2, 5]], { goal: 3 }), alive), targets);
    plan.add(assess(chunk(11, [[1, 5]], { goal: 3 }), alive), targets);
    plan.add(assess(chunk(9, [[2, 5], [3, 5]], { goal: 3 }), alive), targets);
    plan.add(assess(chunk(12, [[3, 5]]), alive), targets);
    plan.add(assess(chunk(13, [[3, 5], [4, 5]]), alive), targets); // at goal
    expect(plan.work().map((w) => w.chunkId)).toEqual([11, 12, 9, 10]);
    expect(plan.fixable).toBe(4);
  });

  it('keeps only the most urgent `limit` copies but counts every fixable chunk', () => {
    const plan = new PassPlan(3);
    for (let id = 100; id > 0; id--) plan.add(assess(chunk(id, id % 10 === 0 ? [[1, 5]] : [[1, 5], [2, 5]], { goal: 3 }), alive), targets);
    expect(plan.work().map((w) => w.chunkId)).toEqual([10, 20, 30]);
    expect(plan.fixable).toBe(100);
  });

  it('skips chunks without a live source, without a free target, or under a lease', () => {
    const plan = new PassPlan(10);
    plan.add(assess(chunk(1, [[1, 5]]), states({ 1: 'waiting' })), targets); // no alive source
    plan.add(assess(chunk(2, [[1, 5], [2, 4]]), alive), [1]); // only target already holds it
    plan.add(assess(chunk(3, [[1, 5]]), alive), targets, true); // deferred after a failure
    plan.add(assess(chunk(4, [[1, 5], [2, 4]], { leased: true }), alive), targets);
    expect(plan.work()).toEqual([]);
    expect(plan.fixable).toBe(1); // the deferred one
    expect(plan.deletions).toEqual([{ chunkId: 2, serverId: 2, version: 4 }]);
  });

  it('allows a server holding a stale copy as the target', () => {
    const plan = new PassPlan(10);
    plan.add(assess(chunk(7, [[1, 5], [2, 3]]), alive), [1, 2]);
    expect(plan.work()).toEqual([{ chunkId: 7, usable: 1 }]);
  });

  it('a dead server within replaceAfterMs still counts: no copy yet', () => {
    const plan = new PassPlan(10);
    plan.add(assess(chunk(8, [[1, 5], [2, 5]]), states({ 1: 'alive', 2: 'waiting' })), targets);
    expect(plan.work()).toEqual([]);
    plan.add(assess(chunk(8, [[1, 5], [2, 5]]), states({ 1: 'alive', 2: 'gone' })), targets);
    expect(plan.work()).toEqual([{ chunkId: 8, usable: 1 }]);
  });

  it('never deletes the last copy: stale replicas go only while a current one is alive', () => {
    const plan = new PassPlan(10);
    plan.add(assess(chunk(1, [[1, 4], [2, 5]]), states({ 1: 'alive', 2: 'waiting' })), targets);
    plan.add(assess(chunk(2, [[1, 4]]), alive), targets); // only a stale copy left ("stale" health)
    expect(plan.deletions).toEqual([]);
    plan.add(assess(chunk(3, [[1, 4], [2, 5], [3, 5]]), alive), targets);
    expect(plan.deletions).toEqual([{ chunkId: 3, serverId: 1, version: 4 }]);
  });

  it('orders work with compareWork', () => {
    expect([{ chunkId: 3, usable: 2 }, { chunkId: 5, usable: 1 }, { chunkId: 1, usable: 2 }].sort(compareWork).map((w) => w.chunkId)).toEqual([5, 1, 3]);
  });
});

describe('surplus replicas', () => {
  it('counts draining copies and copies beyond the goal, once the goal is met in service', () => {
    const s = states({ 1: 'alive', 2: 'alive', 3: 'alive', 4: 'draining', 5: 'waiting' });
    expect(surplus(assess(chunk(1, [[1, 5], [2, 5], [3, 5]]), s))).toBe(1); // goal lowered 3 -> 2
    expect(surplus(assess(chunk(2, [[1, 5], [2, 5], [4, 5]]), s))).toBe(1); // drained elsewhere already
    expect(surplus(assess(chunk(3, [[1, 5], [4, 5]]), s))).toBe(0); // draining copy still needed
    expect(surplus(assess(chunk(4, [[1, 5], [5, 5], [4, 5]]), s))).toBe(0); // a silent server's copy never counts
    expect(surplus(assess(chunk(5, [[1, 5], [2, 5], [3, 4]]), s))).toBe(0); // stale copies are not surplus
  });

  it('lists chunks to trim, but not those under a lease', () => {
    const plan = new PassPlan(10);
    const s = states({ 1: 'alive', 2: 'alive', 3: 'alive', 4: 'draining' });
    plan.add(assess(chunk(1, [[1, 5], [2, 5], [3, 5]]), s), [1, 2, 3]);
    plan.add(assess(chunk(2, [[1, 5], [2, 5], [4, 5]]), s), [1, 2, 3]);
    plan.add(assess(chunk(3, [[1, 5], [2, 5], [3, 5]], { leased: true }), s), [1, 2, 3]);
    plan.add(assess(chunk(4, [[1, 5], [4, 5]]), s), [1, 2, 3]); // below goal in service: a copy first
    expect(plan.trims).toEqual([1, 2]);
    expect(plan.blocked).toBe(1);
    expect(plan.work().map((w) => w.chunkId)).toEqual([4]);
  });
});
