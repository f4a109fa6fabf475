/**
 * readdir: one page of a directory in name order, resumed after the last name returned. Paging
 * by name (not by offset) costs one index descent per page however deep into a huge directory the
 * page is, and stays correct while entries come and go between pages.
 */
import type { fst } from '../../proto-gen/fst.js';
import type { Reader } from '../db/engine.js';
import { inodeFromValues, rowToAttr } from './inode-row.js';
import { JOINED_INODE_COLUMNS, getDir } from './entries.js';

const READDIR_WITH_ATTRS = `SELECT d.name AS name, ${JOINED_INODE_COLUMNS} FROM dentries d JOIN inodes i ON i.ino = d.ino
       WHERE d.parent = ? AND d.name > ? ORDER BY d.name LIMIT ?`;

export const READDIR_DEFAULT_LIMIT = 1000;
export const READDIR_MAX_LIMIT = 10_000;

export interface ReaddirEntry {
  name: string;
  ino: number;
  type: fst.FileType;
  attr?: fst.IAttr;
}

export interface ReaddirResult {
  entries: ReaddirEntry[];
  /** True when entries remain after the last one returned. */
  more: boolean;
  /** The directory's change_seq, read before the page. */
  changeSeq: number;
}

/** 0 (or less) is the default page; more than the maximum is clamped, not refused. */
export function pageSize(limit: number): number {
  if (!Number.isInteger(limit) || limit <= 0) return READDIR_DEFAULT_LIMIT;
  return Math.min(limit, READDIR_MAX_LIMIT);
}

/** Names are compared as SQLite's BINARY collation does: UTF-8 byte order. */
export async function readdir(q: Reader, ino: number, after: string, limit: number, withAttrs: boolean): Promise<ReaddirResult> {
  const dir = await getDir(q, ino);
  const n = pageSize(limit);
  // One row more than asked tells whether another page exists, without a second query.
  let entries: ReaddirEntry[];
  if (withAttrs) {
    const rows = await q.allRaw(READDIR_WITH_ATTRS, [dir.ino, after, n + 1]);
    entries = rows.map((v) => {
      const r = inodeFromValues(v, 1);
      return { name: v[0] as string, ino: r.ino, type: r.type, attr: rowToAttr(r) };
    });
  } else {
    entries = await q.all<{ name: string; ino: number; type: number }>(
      'SELECT name, ino, type FROM dentries WHERE parent = ? AND name > ? ORDER BY name LIMIT ?',
      [dir.ino, after, n + 1],
    );
  }
  const more = entries.length > n;
  if (more) entries.length = n;
  return { entries, more, changeSeq: dir.change_seq };
}
