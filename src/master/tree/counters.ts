/**
 * The `counters` table: running totals kept in the same transaction as the change they count, so
 * statfs never needs COUNT(*) over 10 million rows, and the inode number allocator.
 */
import { FsError } from '../../common/errors/errno.js';
import type { Reader, Tx } from '../db/engine.js';

export type CountedKind = 'files' | 'directories' | 'chunks';

export interface FsCounts {
  files: number;
  directories: number;
  chunks: number;
}

export async function addCounter(tx: Tx, name: CountedKind, delta: number): Promise<void> {
  if (delta === 0) return;
  tx.runLater('UPDATE counters SET value = value + ? WHERE name = ?', [delta, name]);
}

export async function readCounters(q: Reader): Promise<FsCounts> {
  const rows = await q.all<{ name: string; value: number }>(
    "SELECT name, value FROM counters WHERE name IN ('files', 'directories', 'chunks')",
  );
  const counts: FsCounts = { files: 0, directories: 0, chunks: 0 };
  for (const r of rows) {
    if (r.name === 'files' || r.name === 'directories' || r.name === 'chunks') counts[r.name] = r.value;
  }
  return counts;
}

/**
 * A fresh inode number. Numbers are never reused: a client or kernel that still holds a freed
 * inode number must get ENOENT, not someone else's new file (FST has no generation numbers). The
 * high-water mark lives in counters as `next_ino`; it is seeded lazily, and MAX(ino) (one step
 * down the rowid b-tree) guards against inodes inserted by other code.
 */
export async function allocIno(tx: Tx): Promise<number> {
  const r = await tx.get<{ v: number; m: number | null }>(
    "SELECT value AS v, (SELECT MAX(ino) FROM inodes) AS m FROM counters WHERE name = 'next_ino'",
  );
  // No counter row (never seeded): MAX(ino) alone.
  const max = r ? r.m : (await tx.get<{ m: number | null }>('SELECT MAX(ino) AS m FROM inodes'))?.m;
  const ino = Math.max(r?.v ?? 0, (max ?? 0) + 1);
  tx.runLater("INSERT INTO counters (name, value) VALUES ('next_ino', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [
    ino + 1,
  ]);
  return ino;
}

/**
 * Reserves `count` inode numbers for a mount that creates in delegated directories without asking
 * (ApplyChanges brings them back one by one); numbers it never uses are simply never used.
 */
export async function reserveInos(tx: Tx, count: number): Promise<number> {
  const first = await allocIno(tx);
  await tx.run("UPDATE counters SET value = ? WHERE name = 'next_ino'", [first + count]);
  return first;
}

/** Checks a number a mount gave a new inode: reserved (below next_ino) and not in use. */
export async function reservedIno(tx: Tx, ino: number): Promise<number> {
  const counter = await tx.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_ino'");
  if (!Number.isSafeInteger(ino) || ino < 2 || ino >= (counter?.value ?? 0)) {
    throw new FsError('EINVAL', `inode number ${ino} was never reserved`);
  }
  if (await tx.get('SELECT 1 AS x FROM inodes WHERE ino = ?', [ino])) throw new FsError('EEXIST', `inode number ${ino} is in use`);
  return ino;
}
