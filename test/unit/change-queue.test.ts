/**
 * The change queue's batching (client/vfs/change-queue.ts) alone, with a master whose ApplyChanges
 * answers when the test says: changes that arrive while a batch is on its way wait for more to go
 * with them unless someone waits for the queue, and a scoped barrier waits only for changes
 * touching its inodes. Through a real mount: test/fuse/delegated-dirs.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import type { MetaClient } from '../../src/client/meta-client.js';
import type { fst } from '../../src/client/types.js';
import { ChangeQueue } from '../../src/client/vfs/change-queue.js';

/** A master that records each ApplyChanges batch and answers it when `answer()` is called. */
function heldMaster() {
  const batches: fst.IChange[][] = [];
  const answers: (() => void)[] = [];
  const meta = {
    applyChanges: (changes: fst.IChange[]) => {
      batches.push(changes);
      return new Promise((resolve) => answers.push(() => resolve({ failures: [], recalled: [], epoch: 'e' })));
    },
  } as unknown as MetaClient;
  return { meta, batches, answer: () => answers.shift()?.() };
}

const unlinkIn = (parent: number, ino: number) => ({
  change: { unlink: { parent, name: `n${ino}` }, ino },
  inos: [parent, ino],
  onFailure: () => undefined,
});

/** Lets promise callbacks and immediate work run (fake timers do not advance). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('ChangeQueue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps what arrives while a batch is on its way for the next delay, unless someone waits', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { meta, batches, answer } = heldMaster();
    const q = new ChangeQueue(meta, silentLogger, () => undefined);
    q.add(unlinkIn(1, 10));
    await vi.advanceTimersByTimeAsync(5);
    expect(batches).toHaveLength(1);
    // Three more while the first is unanswered; its answer does not send them at once.
    for (const ino of [11, 12, 13]) q.add(unlinkIn(1, ino));
    answer();
    await settle();
    expect(batches).toHaveLength(1);
    q.add(unlinkIn(1, 14));
    await vi.advanceTimersByTimeAsync(5);
    expect(batches.map((b) => b.length)).toEqual([1, 4]);

    // A waiter: each batch follows the one before at once until the queue is empty.
    q.add(unlinkIn(2, 20));
    const drained = q.barrier();
    expect(drained).toBeDefined();
    answer();
    await settle();
    expect(batches.map((b) => b.length)).toEqual([1, 4, 1]);
    answer();
    await drained;
    expect(q.busy(2)).toBe(false);
  });

  it('makes a scoped barrier wait only for changes touching its inodes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { meta, answer } = heldMaster();
    const q = new ChangeQueue(meta, silentLogger, () => undefined);
    q.add(unlinkIn(1, 10));
    expect(q.barrier([2, 3])).toBeUndefined();
    const touching = q.barrier([3, 10]);
    expect(touching).toBeDefined();
    await settle();
    answer();
    await touching;
    expect(q.barrier([10])).toBeUndefined();
    expect(q.barrier()).toBeUndefined();
  });
});
