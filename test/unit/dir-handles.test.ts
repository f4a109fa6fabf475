/**
 * The table of listings being read (client/vfs/dir-handles.ts): handle numbers fit the offsets the
 * adapter gives out, and listings left unfinished (no releasedir comes when the kernel opens
 * directories itself) are dropped, least recently read first, or when idle too long.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DirHandleTable, MAX_HANDLE } from '../../src/client/vfs/dir-handles.js';
import { fst, type Attr } from '../../src/client/types.js';

const T = { sec: 0, nsec: 0 };
const dir = (ino: number): Attr => ({
  ino, type: fst.FileType.DIRECTORY, mode: 0o755, uid: 0, gid: 0, nlink: 2, size: 0, atime: T, mtime: T, ctime: T, rdev: 0, replication: 0, hasXattrs: false, changeSeq: 1,
});

describe('DirHandleTable', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops the least recently read listing once 1,024 are open, and knows each handle\'s directory', () => {
    const t = new DirHandleTable();
    const fhs = Array.from({ length: 1024 }, (_, i) => t.open(dir(100 + i)));
    expect(fhs.every((fh) => fh > 0 && fh < MAX_HANDLE)).toBe(true);
    expect(t.holds(fhs[0]!, 100)).toBe(true);
    expect(t.holds(fhs[0]!, 101)).toBe(false);
    t.get(fhs[0]!); // read again: now the most recent
    const extra = t.open(dir(5000));
    expect(t.holds(extra, 5000)).toBe(true);
    expect(t.holds(fhs[0]!, 100)).toBe(true);
    expect(t.holds(fhs[1]!, 101)).toBe(false);
    expect(() => t.get(fhs[1]!)).toThrow(/no open directory handle/);
    t.release(extra);
    expect(t.holds(extra, 5000)).toBe(false);
  });

  it('drops a listing left unread for ten minutes when another opens', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t = new DirHandleTable();
    const old = t.open(dir(7));
    vi.advanceTimersByTime(10 * 60_000 + 1);
    const fresh = t.open(dir(8));
    expect(t.holds(old, 7)).toBe(false);
    expect(t.holds(fresh, 8)).toBe(true);
  });

  it('numbers handles below MAX_HANDLE however many were opened, skipping those still open', () => {
    const t = new DirHandleTable();
    const kept = t.open(dir(1));
    let last = kept;
    for (let i = 0; i < MAX_HANDLE + 10; i++) {
      last = t.open(dir(2));
      expect(last).not.toBe(kept);
      t.release(last);
    }
    expect(last).toBeLessThan(MAX_HANDLE);
    expect(t.holds(kept, 1)).toBe(true);
  });
});
