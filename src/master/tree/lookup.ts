/**
 * lookup(2)-style name resolution in one directory, including "." and "..". Runs on the reader
 * connection: a committed snapshot, never blocked by the writer.
 */
import type { fst } from '../../proto-gen/fst.js';
import type { Reader } from '../db/engine.js';
import { getInode, rowToAttr, type InodeRow } from './inode-row.js';
import { MAY_EXEC, checkAccess, checkName, type Cred } from './checks.js';
import { getChild, getDir } from './entries.js';

/** Resolves `name` in directory `parent` to its inode row. */
async function lookupRow(q: Reader, parent: number, name: string, cred: Cred | undefined): Promise<InodeRow> {
  checkName(name, 'lookup');
  const dir = await getDir(q, parent);
  checkAccess(dir, cred, MAY_EXEC);
  if (name === '.') return dir;
  // The root's parent column points at itself, so ".." of the root is the root.
  if (name === '..') return getInode(q, dir.parent ?? dir.ino);
  return getChild(q, dir.ino, name);
}

/** lookup: attributes of `name` in directory `parent`. */
export async function lookup(q: Reader, parent: number, name: string, cred: Cred | undefined): Promise<fst.IAttr> {
  return rowToAttr(await lookupRow(q, parent, name, cred));
}
