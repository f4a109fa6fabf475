/**
 * The small writes to `inodes` that several operations share: inserting a row, moving a
 * directory's mtime/ctime and link count, adding or dropping a link. Each is one UPDATE by
 * primary key, after the caller's checks: run with `runLater` (nothing reads its answer).
 */
import type { Tx } from '../db/engine.js';
import { freeInode } from './free-inode.js';
import { ORPHAN_LEASE_MS, recordOrphan, REPLACED_GRACE_MS } from './orphans.js';
import { INODE_COLUMNS, type InodeRow } from './inode-row.js';

export interface Timespec {
  sec: number;
  nsec: number;
}

const COLUMN_LIST = INODE_COLUMNS.split(', ');
const INSERT_SQL = `INSERT INTO inodes (${INODE_COLUMNS}) VALUES (${COLUMN_LIST.map(() => '?').join(', ')})`;

export async function insertInode(tx: Tx, row: InodeRow): Promise<void> {
  tx.runLater(INSERT_SQL, COLUMN_LIST.map((c) => row[c] ?? null));
}

/** Writes every mutable column of `row` back (setattr builds the whole new row first). */
export async function updateInode(tx: Tx, row: InodeRow): Promise<void> {
  tx.runLater(
    `UPDATE inodes SET mode = ?, uid = ?, gid = ?, nlink = ?, size = ?, atime_s = ?, atime_ns = ?,
       mtime_s = ?, mtime_ns = ?, ctime_s = ?, ctime_ns = ? WHERE ino = ?`,
    [row.mode, row.uid, row.gid, row.nlink, row.size, row.atime_s, row.atime_ns, row.mtime_s, row.mtime_ns,
      row.ctime_s, row.ctime_ns, row.ino],
  );
}

/**
 * A directory's entries changed: mtime and ctime to `now`, link count moved by `nlinkDelta`,
 * change_seq + 1. Called once per directory per changing call, with the directory's row as the
 * same transaction read it; answers the row as written, which the call answers as the directory's
 * attributes (no read back).
 */
export async function touchDir(tx: Tx, dir: InodeRow, now: Timespec, nlinkDelta = 0): Promise<InodeRow> {
  const ino = dir.ino;
  tx.runLater(
    'UPDATE inodes SET nlink = nlink + ?, mtime_s = ?, mtime_ns = ?, ctime_s = ?, ctime_ns = ?, change_seq = change_seq + 1 WHERE ino = ?',
    [nlinkDelta, now.sec, now.nsec, now.sec, now.nsec, ino],
  );
  return {
    ...dir, nlink: dir.nlink + nlinkDelta, mtime_s: now.sec, mtime_ns: now.nsec, ctime_s: now.sec, ctime_ns: now.nsec, change_seq: dir.change_seq + 1,
  };
}

/** An inode's metadata changed without a content change: only ctime moves. */
export async function touchCtime(tx: Tx, ino: number, now: Timespec, nlinkDelta = 0): Promise<void> {
  tx.runLater('UPDATE inodes SET nlink = nlink + ?, ctime_s = ?, ctime_ns = ? WHERE ino = ?', [
    nlinkDelta, now.sec, now.nsec, ino,
  ]);
}

/**
 * One name of a non-directory is gone: nlink - 1 and a ctime bump, or, at 0, the inode is freed —
 * unless `keepIno` is this inode (the caller has it open): then it stays as an orphan until the
 * caller releases it (orphans.ts); or `replaced` (a rename replaced it): kept for the opens racing
 * that rename (REPLACED_GRACE_MS). Returns the links left.
 */
export async function dropLink(tx: Tx, row: InodeRow, now: Timespec, keepIno = 0, replaced = false): Promise<number> {
  const left = row.nlink - 1;
  if (left <= 0) {
    if (keepIno !== row.ino && !replaced) {
      await freeInode(tx, row);
      return 0;
    }
    await touchCtime(tx, row.ino, now, -1);
    await recordOrphan(tx, row.ino, keepIno === row.ino ? ORPHAN_LEASE_MS : REPLACED_GRACE_MS);
    return 0;
  }
  await touchCtime(tx, row.ino, now, -1);
  return left;
}

/** Copies a timespec into a row's `<prefix>_s` / `<prefix>_ns` columns. */
export function setTime(row: InodeRow, prefix: 'atime' | 'mtime' | 'ctime', t: Timespec): void {
  row[`${prefix}_s`] = t.sec;
  row[`${prefix}_ns`] = t.nsec;
}
