/**
 * The listing read-ahead's bookkeeping (client/vfs/listing-read-ahead.ts) alone, with a master that
 * answers ReaddirMany from a table: what is asked for, what is used once, and what is dropped (too
 * old, changed here, or past the memory bound). The walk through a real mount is in
 * test/fuse/tree-walk.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import type { MetaClient, ReaddirManyResult, ReaddirPage } from '../../src/client/meta-client.js';
import { fst, type DirEntry } from '../../src/client/types.js';
import { EntryCache } from '../../src/client/vfs/entry-cache.js';
import { ListingReadAhead, MAX_WAITING_ENTRIES } from '../../src/client/vfs/listing-read-ahead.js';

const dirEntry = (ino: number): DirEntry => ({ name: `d${ino}`, ino, type: fst.FileType.DIRECTORY });

/**
 * A master whose every directory holds `perDir` files, and below `subdirsBelow` two subdirectories
 * (10d and 10d + 1); each call lists the directories asked and leaves their subdirectories
 * unlisted (as if its budget ran out there). Records what each call asked for, and its budget.
 */
function fakeMaster(perDir: number, subdirsBelow = 0) {
  const asked: number[][] = [];
  const budgets: number[] = [];
  const meta = {
    readdirMany: (inos: number[], limits: { total: number; descend?: boolean }): Promise<ReaddirManyResult> => {
      asked.push(inos);
      budgets.push(limits.total);
      const pages = new Map<number, ReaddirPage>();
      const unlisted: number[] = [];
      for (const ino of inos) {
        const subdirs = ino < subdirsBelow ? [ino * 10, ino * 10 + 1] : [];
        const entries = [
          ...subdirs.map(dirEntry),
          ...Array.from({ length: perDir }, (_, i): DirEntry => ({ name: `f${i}`, ino: ino * 10_000 + i, type: fst.FileType.REGULAR })),
        ];
        pages.set(ino, { entries, more: false, changeSeq: 1 });
        if (limits.descend) unlisted.push(...subdirs);
      }
      return Promise.resolve({ pages, unlisted });
    },
  };
  return { meta: meta as unknown as MetaClient, asked, budgets };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

describe('ListingReadAhead', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks for the subdirectories of a listing in one call, and hands each page out once', async () => {
    const { meta, asked } = fakeMaster(3);
    const entries = new EntryCache(meta, 1000);
    const ahead = new ListingReadAhead(meta, entries, silentLogger);
    ahead.listed([dirEntry(5), { name: 'file', ino: 6, type: fst.FileType.REGULAR }, dirEntry(7)]);
    const page = await ahead.take(5);
    expect(asked).toEqual([[5, 7]]);
    expect(page?.page.entries.map((e) => e.name)).toEqual(['f0', 'f1', 'f2']);
    expect(await ahead.take(5)).toBeUndefined();
    expect(await ahead.take(6)).toBeUndefined();
    // Asked for already: not again.
    ahead.listed([dirEntry(7)]);
    expect(asked).toHaveLength(1);
  });

  it('goes on from where a call stopped, each call asking for more, until the tree is listed', async () => {
    // Directories below 100 have two subdirectories each: 1 and 2, then 10, 11, 20, 21, then 100...
    const { meta, asked, budgets } = fakeMaster(1, 100);
    const ahead = new ListingReadAhead(meta, new EntryCache(meta, 1000), silentLogger);
    ahead.listed([dirEntry(1), dirEntry(2)]);
    await settle();
    expect(asked).toEqual([[1, 2], [10, 11, 20, 21], [100, 101, 110, 111, 200, 201, 210, 211]]);
    expect(budgets[1]!).toBeGreaterThan(budgets[0]!);
    expect(budgets[2]!).toBeGreaterThan(budgets[1]!);
    // The walker's own listing names subdirectories waiting already: nothing more is asked.
    const one = await ahead.take(1);
    ahead.listed(one!.page.entries);
    await settle();
    expect(asked).toHaveLength(3);
    for (const d of [10, 101, 211]) expect((await ahead.take(d))?.page.entries.length).toBeGreaterThan(0);
  });

  it('stops going on while the walker is far behind, and goes on once it catches up', async () => {
    // Every directory holds 1000 files and two subdirectories: the tree has no end.
    const { meta, asked } = fakeMaster(1000, Number.MAX_SAFE_INTEGER);
    const ahead = new ListingReadAhead(meta, new EntryCache(meta, 60_000), silentLogger);
    ahead.listed([dirEntry(1)]);
    await settle();
    const stopped = asked.length;
    const waiting = asked.flat();
    expect(waiting.length * 1000).toBeLessThan(MAX_WAITING_ENTRIES);
    await settle();
    expect(asked).toHaveLength(stopped);
    // The walker uses the pages: the read-ahead goes on from where it stopped.
    for (const d of waiting) expect(await ahead.take(d)).toBeDefined();
    await settle();
    expect(asked.length).toBeGreaterThan(stopped);
    const next = asked[stopped]!;
    expect(next.every((d) => !waiting.includes(d))).toBe(true);
  });

  it('does not hand out a page once older than half the entry TTL, or after a change here', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setImmediate'] });
    const { meta } = fakeMaster(2);
    const entries = new EntryCache(meta, 1000);
    const ahead = new ListingReadAhead(meta, entries, silentLogger);
    ahead.listed([dirEntry(1), dirEntry(2), dirEntry(3)]);
    await vi.runAllTimersAsync();
    vi.advanceTimersByTime(501);
    expect(await ahead.take(1)).toBeUndefined();

    ahead.listed([dirEntry(4), dirEntry(5), dirEntry(6)]);
    await vi.runAllTimersAsync();
    entries.dirChanged(4, undefined);
    expect(await ahead.take(4)).toBeUndefined();
    entries.forgetAttr(5 * 10_000 + 1);
    expect(await ahead.take(5)).toBeUndefined();
    // Untouched and young enough: used.
    expect((await ahead.take(6))?.page.entries).toHaveLength(2);
  });

  it('keeps a listing read whole for the next opening, within the age limit counted from its first read', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setImmediate'] });
    const { meta, asked } = fakeMaster(2);
    const entries = new EntryCache(meta, 1000);
    const ahead = new ListingReadAhead(meta, entries, silentLogger);
    ahead.listed([dirEntry(1), dirEntry(2)]);
    await vi.runAllTimersAsync();
    // A change here since the first read: kept, but not handed out.
    const other = await ahead.take(2);
    ahead.keepForReopen(2, other!);
    entries.dirChanged(2, undefined);
    expect(await ahead.take(2)).toBeUndefined();

    const first = await ahead.take(1);
    expect(first?.reused).toBeFalsy();
    vi.advanceTimersByTime(300);
    ahead.keepForReopen(1, first!);
    const again = await ahead.take(1);
    expect(again?.page).toBe(first?.page);
    expect(again?.reused).toBe(true);
    // Past half the TTL from the first read: not kept again, however recently it was served.
    vi.advanceTimersByTime(201);
    ahead.keepForReopen(1, again!);
    expect(await ahead.take(1)).toBeUndefined();
    expect(asked).toEqual([[1, 2]]);
  });

  it('keeps no more than its bound of entries waiting, dropping the oldest pages', async () => {
    const perDir = 1000;
    const { meta } = fakeMaster(perDir);
    const entries = new EntryCache(meta, 60_000);
    const ahead = new ListingReadAhead(meta, entries, silentLogger);
    const dirs = Array.from({ length: MAX_WAITING_ENTRIES / perDir + 10 }, (_, i) => 100 + i);
    for (let i = 0; i < dirs.length; i += 4) {
      ahead.listed(dirs.slice(i, i + 4).map(dirEntry));
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }
    const kept: number[] = [];
    for (const d of dirs) if (await ahead.take(d)) kept.push(d);
    expect(kept.length * perDir).toBeLessThanOrEqual(MAX_WAITING_ENTRIES);
    expect(kept.length).toBeGreaterThan(0);
    // The newest stayed.
    expect(kept).toContain(dirs[dirs.length - 1]);
    expect(kept).not.toContain(dirs[0]);
  });
});
