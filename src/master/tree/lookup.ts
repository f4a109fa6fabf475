/**
 * lookup(2)-style name resolution in one directory, including "." and "..". Runs on the reader
 * connection: a committed snapshot, never blocked by the writer.
 */
import type { fst } from '../../proto-gen/fst.js';
import type { Reader } from '../db/engine.js';
import { getInode, rowToAttr, type InodeRow } from './inode-row.js';
import { MAY_EXEC, checkAccess, checkName, type Cred } from './checks.js';
import { getDir, getDirAndChild } from './entries.js';
import { FsError } from '../../common/errors/errno.js';

/** Resolves `name` in directory `parent` to its inode row. */
async function lookupRow(q: Reader, parent: number, name: string, cred: Cred | undefined): Promise<InodeRow> {
  checkName(name, 'lookup');
  if (name === '.' || name === '..') {
    const dir = await getDir(q, parent);
    checkAccess(dir, cred, MAY_EXEC);
    // The root's parent column points at itself, so ".." of the root is the root.
    return name === '.' ? dir : getInode(q, dir.parent ?? dir.ino);
  }
  const { dir, child } = await getDirAndChild(q, parent, name);
  checkAccess(dir, cred, MAY_EXEC);
  if (!child) throw new FsError('ENOENT', `no entry ${JSON.stringify(name)} in directory ${dir.ino}`);
  return child;
}

/** lookup: attributes of `name` in directory `parent`. */
export async function lookup(q: Reader, parent: number, name: string, cred: Cred | undefined): Promise<fst.IAttr> {
  return rowToAttr(await lookupRow(q, parent, name, cred));
}
