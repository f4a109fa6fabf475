/**
 * LockTable on its own (a fake clock): POSIX byte ranges conflict, merge and split as on Linux,
 * flock is whole-file and apart from POSIX locks, closes drop an owner's locks, and a session that
 * stops renewing loses its locks after the lease.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FsError } from '../../src/common/errors/errno.js';
import { LockTable, MAX_LOCKS_PER_FILE, type LockAsk } from '../../src/master/locks/lock-table.js';

let table: LockTable | undefined;
afterEach(() => table?.close());

const A = { session: 'mount-a', owner: '1', pid: 100 };
const B = { session: 'mount-b', owner: '1', pid: 200 };
const posix = (who: typeof A, type: LockAsk['type'], start: number, end: number): LockAsk => ({ ino: 7, ...who, kind: 'posix', type, start, end });
const flock = (who: typeof A, type: LockAsk['type']): LockAsk => ({ ino: 7, ...who, kind: 'flock', type, start: 0, end: Infinity });

describe('LockTable', () => {
  it('lets POSIX read locks share and write locks exclude, by overlapping range only', () => {
    table = new LockTable();
    expect(table.set(posix(A, 'read', 0, 100))).toBeUndefined();
    expect(table.set(posix(B, 'read', 50, 150))).toBeUndefined();
    expect(table.set(posix(B, 'write', 50, 150))?.session).toBe('mount-a');
    expect(table.set(posix(B, 'write', 100, 200))).toBeUndefined();
    expect(table.conflict(posix(A, 'write', 150, 160))?.pid).toBe(200);
    expect(table.conflict(posix(A, 'write', 200, 300))).toBeUndefined();
  });

  it('splits, merges and converts one owner\'s ranges, never conflicting with itself', () => {
    table = new LockTable();
    table.set(posix(A, 'write', 0, 100));
    table.set(posix(A, 'write', 100, 200));
    expect(table.locksOf(7).map((l) => [l.start, l.end, l.type])).toEqual([[0, 200, 'write']]);
    table.set(posix(A, 'read', 50, 60));
    expect(table.locksOf(7).map((l) => [l.start, l.end, l.type])).toEqual([[0, 50, 'write'], [50, 60, 'read'], [60, 200, 'write']]);
    table.set(posix(A, 'unlock', 40, 70));
    expect(table.locksOf(7).map((l) => [l.start, l.end])).toEqual([[0, 40], [70, 200]]);
    expect(table.set(posix(B, 'write', 40, 70))).toBeUndefined();
    table.set(posix(A, 'unlock', 0, Infinity));
    expect(table.locksOf(7).map((l) => l.session)).toEqual(['mount-b']);
  });

  it('keeps flock whole-file and apart from POSIX locks, and converts an owner\'s flock', () => {
    table = new LockTable();
    expect(table.set(flock(A, 'read'))).toBeUndefined();
    expect(table.set(flock(B, 'read'))).toBeUndefined();
    expect(table.set(flock(B, 'write'))?.session).toBe('mount-a');
    // A POSIX lock does not see flock locks.
    expect(table.set(posix(B, 'write', 0, 10))).toBeUndefined();
    table.set(flock(A, 'unlock'));
    expect(table.set(flock(B, 'write'))).toBeUndefined();
    expect(table.set(flock(A, 'read'))?.type).toBe('write');
  });

  it('drops an owner\'s locks at close, and a silent session\'s after the lease', () => {
    let now = 0;
    table = new LockTable(5000, () => now);
    table.set(posix(A, 'write', 0, 10));
    table.set(flock(A, 'write'));
    table.releaseOwner(7, A.session, A.owner, 'posix');
    expect(table.locksOf(7).map((l) => l.kind)).toEqual(['flock']);
    table.set(posix(B, 'read', 0, 10));
    now = 4000;
    table.renew(B.session);
    now = 6000;
    table.expire();
    expect(table.locksOf(7).map((l) => l.session)).toEqual(['mount-b']);
    now = 10_000;
    table.expire();
    expect(table.locksOf(7)).toEqual([]);
  });

  it('refuses a lock past the per-file limit with ENOLCK, changing nothing', () => {
    table = new LockTable();
    for (let i = 0; i < MAX_LOCKS_PER_FILE; i++) expect(table.set(posix({ ...A, owner: String(i) }, 'read', i * 2, i * 2 + 1))).toBeUndefined();
    let err: unknown;
    try {
      table.set(posix(B, 'read', 1, 2));
    } catch (e) {
      err = e;
    }
    expect((err as FsError).code).toBe('ENOLCK');
    expect(table.locksOf(7)).toHaveLength(MAX_LOCKS_PER_FILE);
    expect(table.conflict(posix(B, 'write', 1, 2))).toBeUndefined();
  });
});
