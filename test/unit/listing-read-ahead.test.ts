/**
 * The listing read-ahead's bookkeeping (client/vfs/listing-read-ahead.ts) alone, with a master that
 * answers ReaddirMany from a table: what is asked for, what is used once, and what is dropped (too
 * old, changed here, or past the memory bound). The walk through a real mount is in
 * test/fuse/tree-walk.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import type { MetaClient, ReaddirPage } from '../../src/client/meta-client.js';
import { fst, type DirEntry } from '../../src/client/types.js';
import { EntryCache } from '../../src/client/vfs/entry-cache.js';
import { ListingReadAhead, MAX_WAITING_ENTRIES } from '../../src/client/vfs/listing-read-ahead.js';

const dirEntry = (ino: number): DirEntry => ({ name: `d${ino}`, ino, type: fst.FileType.DIRECTORY });

/** A master whose every directory holds `perDir` files; records the directories each call asked for. */
function fakeMaster(perDir: number) {
  const asked: number[][] = [];
  const meta = {
    readdirMany: (inos: number[]): Promise<Map<number, ReaddirPage>> => {
      asked.push(inos);
      const pages = new Map<number, ReaddirPage>();
      for (const ino of inos) {
        const entries = Array.from({ length: perDir }, (_, i): DirEntry => ({ name: `f${i}`, ino: ino * 10_000 + i, type: fst.FileType.REGULAR }));
        pages.set(ino, { entries, more: false, changeSeq: 1 });
      }
      return Promise.resolve(pages);
    },
  };
  return { meta: meta as unknown as MetaClient, asked };
}

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

  it('asks one level further in one more call when the pages name subdirectories, and no further', async () => {
    // Every directory d holds two subdirectories, 10d and 10d + 1.
    const asked: number[][] = [];
    const meta = {
      readdirMany: (inos: number[]): Promise<Map<number, ReaddirPage>> => {
        asked.push(inos);
        return Promise.resolve(new Map(inos.map((ino) => [ino, { entries: [dirEntry(ino * 10), dirEntry(ino * 10 + 1)], more: false, changeSeq: 1 }])));
      },
    } as unknown as MetaClient;
    const ahead = new ListingReadAhead(meta, new EntryCache(meta, 1000), silentLogger);
    ahead.listed([dirEntry(1), dirEntry(2)]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual([[1, 2], [10, 11, 20, 21]]);
    expect((await ahead.take(10))?.page.entries.map((e) => e.ino)).toEqual([100, 101]);
    expect(await ahead.take(100)).toBeUndefined();
    expect(asked).toHaveLength(2);
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
