/**
 * The PostgreSQL writer's deferred statements (db/pg-deferred.ts): the first failure of a
 * transaction is kept, and a statement of an earlier transaction that answers late (its
 * connection was lost) does not become the new transaction's failure.
 */
import { describe, expect, it } from 'vitest';
import { DeferredStatements } from '../../src/master/db/pg-deferred.js';

describe('DeferredStatements', () => {
  it('keeps the first failure among the statements sent', async () => {
    const d = new DeferredStatements();
    d.add(Promise.resolve());
    d.add(Promise.reject(new Error('first')));
    d.add(Promise.reject(new Error('second')));
    expect(((await d.settled())?.error as Error).message).toBe('first');
  });

  it('forgets a failure at reset, even one that arrives after it', async () => {
    const d = new DeferredStatements();
    let fail: (e: Error) => void = () => undefined;
    d.add(new Promise((_, reject) => (fail = reject)));
    d.reset();
    d.add(Promise.resolve());
    fail(new Error('from the transaction before'));
    await new Promise((r) => setImmediate(r));
    expect(await d.settled()).toBeUndefined();
  });
});
