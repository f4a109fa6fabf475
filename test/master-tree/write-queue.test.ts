/**
 * The writer queue on each engine: mutations grouped into one transaction, each in its own
 * savepoint, with writes sent without waiting (Tx.runLater; PostgreSQL pipelines them). Whatever
 * the engine, a mutation that resolved is committed and one that rejected left nothing behind; a
 * write that fails fails its own mutation (SQLite: at once) or the whole group (PostgreSQL: the
 * failure is seen at COMMIT), never passes silently.
 */
import { describe, expect, it } from 'vitest';
import { FsError } from '../../src/common/errors/errno.js';
import type { Tx } from '../../src/master/db/engine.js';
import { ENGINES, useNamespace } from './helpers.js';

describe.each(ENGINES)('the writer queue (%s)', (engine) => {
  const fx = useNamespace(engine);
  const insert = (tx: Tx, name: string): void => tx.runLater('INSERT INTO counters (name, value) VALUES (?, 1)', [name]);
  const present = async (name: string): Promise<boolean> => (await fx.db.reader.get('SELECT value FROM counters WHERE name = ?', [name])) !== undefined;

  /** Runs `bodies` as one group: a first mutation holds the queue while they are queued behind it. */
  async function group(bodies: ((tx: Tx) => Promise<void>)[]): Promise<PromiseSettledResult<void>[]> {
    const first = fx.db.write(async (tx) => insert(tx, 'first'));
    const rest = bodies.map((b) => fx.db.write(b));
    await first;
    return Promise.allSettled(rest);
  }

  it('commits what resolved and leaves nothing of what rejected, when a deferred write fails', async () => {
    const outcomes = await group([
      async (tx) => insert(tx, 'a'),
      async (tx) => {
        insert(tx, 'b');
        insert(tx, 'b'); // the primary key refuses it
      },
      async (tx) => insert(tx, 'c'),
    ]);
    expect(outcomes[1]!.status).toBe('rejected');
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      expect(await present(name), `${name}: ${outcomes[i]!.status}`).toBe(outcomes[i]!.status === 'fulfilled');
    }
    // The queue goes on.
    await fx.db.write(async (tx) => insert(tx, 'after'));
    expect(await present('after')).toBe(true);
  });

  it('rolls back the writes of a mutation that throws, and only those', async () => {
    const outcomes = await group([
      async (tx) => insert(tx, 'x'),
      async (tx) => {
        insert(tx, 'y');
        await tx.get('SELECT 1 AS one'); // a read behind the deferred write
        throw new FsError('EEXIST', 'the check failed after a write');
      },
      async (tx) => insert(tx, 'z'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[1]).toMatchObject({ reason: { code: 'EEXIST' } });
    expect([await present('x'), await present('y'), await present('z')]).toEqual([true, false, true]);
  });

  it('reads in a mutation see its own deferred writes and those before it in the group', async () => {
    const seen: number[] = [];
    const outcomes = await group([
      async (tx) => insert(tx, 'p'),
      async (tx) => {
        tx.runLater("UPDATE counters SET value = value + 1 WHERE name = 'p'");
        seen.push(Number((await tx.get<{ value: number }>("SELECT value FROM counters WHERE name = 'p'"))?.value));
      },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(seen).toEqual([2]);
  });

  it('fails a lone mutation whose deferred write fails, leaving nothing', async () => {
    await expect(fx.db.write(async (tx) => {
      insert(tx, 'lone');
      insert(tx, 'lone');
    })).rejects.toThrow();
    expect(await present('lone')).toBe(false);
  });
});
