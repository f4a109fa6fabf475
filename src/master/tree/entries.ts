/**
 * Directory entries: the `dentries` rows, (parent, name) -> ino. Every statement here goes
 * through the (parent, name) primary key, so a directory of a million entries costs a b-tree
 * descent, never a scan.
 */
import type { Reader, Tx } from '../db/engine.js';
import { FsError } from '../../common/errors/errno.js';
import { INODE_COLUMNS, getInode, inodeFromValues, type InodeRow } from './inode-row.js';
import { requireDirectory } from './checks.js';

/** INODE_COLUMNS qualified with the `i` alias, for joins with dentries. */
export const JOINED_INODE_COLUMNS = INODE_COLUMNS.split(', ').map((c) => `i.${c}`).join(', ');

const FIND_CHILD = `SELECT ${JOINED_INODE_COLUMNS} FROM dentries d JOIN inodes i ON i.ino = d.ino WHERE d.parent = ? AND d.name = ?`;

/** The inode named `name` in directory `parent`, read in one statement (one snapshot). */
export async function findChild(q: Reader, parent: number, name: string): Promise<InodeRow | undefined> {
  const v = await q.getRaw(FIND_CHILD, [parent, name]);
  return v && inodeFromValues(v);
}

const INODE_COLUMN_COUNT = INODE_COLUMNS.split(', ').length;
const PARENT_INODE_COLUMNS = INODE_COLUMNS.split(', ').map((c) => `p.${c}`).join(', ');
const DIR_AND_CHILD = `SELECT ${PARENT_INODE_COLUMNS}, ${JOINED_INODE_COLUMNS} FROM inodes p
  LEFT JOIN dentries d ON d.parent = p.ino AND d.name = ? LEFT JOIN inodes i ON i.ino = d.ino WHERE p.ino = ?`;

/**
 * Directory `parent` (ENOENT when absent, ENOTDIR when it is something else, as getDir) and the
 * inode named `name` in it, if any, in one statement (a create and a lookup need both).
 */
export async function getDirAndChild(q: Reader, parent: number, name: string): Promise<{ dir: InodeRow; child: InodeRow | undefined }> {
  const v = await q.getRaw(DIR_AND_CHILD, [name, parent]);
  if (!v) throw new FsError('ENOENT', `no inode ${parent}`);
  const dir = inodeFromValues(v);
  requireDirectory(dir);
  return { dir, child: v[INODE_COLUMN_COUNT] === null ? undefined : inodeFromValues(v, INODE_COLUMN_COUNT) };
}

/** Like findChild, but a missing name is ENOENT. */
export async function getChild(q: Reader, parent: number, name: string): Promise<InodeRow> {
  const row = await findChild(q, parent, name);
  if (!row) throw new FsError('ENOENT', `no entry ${JSON.stringify(name)} in directory ${parent}`);
  return row;
}

/** Loads a directory: ENOENT when absent, ENOTDIR when it is something else. */
export async function getDir(q: Reader, ino: number): Promise<InodeRow> {
  const row = await getInode(q, ino);
  requireDirectory(row);
  return row;
}

/** Writes with runLater (nothing reads their answers): the callers checked that the name is free, or present. */
export async function insertEntry(tx: Tx, parent: number, name: string, ino: number, type: number): Promise<void> {
  tx.runLater('INSERT INTO dentries (parent, name, ino, type) VALUES (?, ?, ?, ?)', [parent, name, ino, type]);
}

export async function deleteEntry(tx: Tx, parent: number, name: string): Promise<void> {
  tx.runLater('DELETE FROM dentries WHERE parent = ? AND name = ?', [parent, name]);
}

export async function isEmptyDir(q: Reader, ino: number): Promise<boolean> {
  return (await q.get('SELECT 1 AS x FROM dentries WHERE parent = ? LIMIT 1', [ino])) === undefined;
}

/** The directories holding a name of inode `ino` (dentries_by_ino): none for the root or an orphan. */
export async function namingDirs(q: Reader, ino: number): Promise<number[]> {
  const rows = await q.all<{ parent: number }>('SELECT parent FROM dentries WHERE ino = ?', [ino]);
  return rows.map((r) => r.parent);
}

/** The `parent` column of a directory (root is its own parent). */
export async function parentOf(q: Reader, dirIno: number): Promise<number> {
  const row = await q.get<{ parent: number | null }>('SELECT parent FROM inodes WHERE ino = ?', [dirIno]);
  if (!row) throw new FsError('ENOENT', `no inode ${dirIno}`);
  if (row.parent === null) throw new FsError('EIO', `directory ${dirIno} has no parent recorded`);
  return row.parent;
}
