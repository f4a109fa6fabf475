/**
 * Paths for administration (fstadmin goal, du, fsck): an absolute path resolved to its inode, and
 * an inode named by one of its paths. The data path never uses these: clients resolve names one
 * lookup at a time, with permission checks; an operator's command runs as the cluster's owner.
 */
import { FsError } from '../../common/errors/errno.js';
import { ROOT_INO } from '../../common/ids.js';
import type { Reader } from '../db/engine.js';
import { getChild } from './entries.js';
import { getInode, type InodeRow } from './inode-row.js';

/** The inode at absolute `path` ("/" is the root); ENOENT, ENOTDIR or EINVAL as a shell would say. */
export async function resolvePath(q: Reader, path: string): Promise<InodeRow> {
  if (!path.startsWith('/')) throw new FsError('EINVAL', `path must be absolute: ${JSON.stringify(path)}`);
  let row = await getInode(q, ROOT_INO);
  for (const name of path.split('/').filter((n) => n !== '' && n !== '.')) {
    if (name === '..') {
      row = await getInode(q, row.parent ?? ROOT_INO);
      continue;
    }
    if (row.type !== DIRECTORY) throw new FsError('ENOTDIR', `not a directory on the way to ${path}`);
    row = await getChild(q, row.ino, name).catch((e: unknown) => {
      throw e instanceof FsError && e.code === 'ENOENT' ? new FsError('ENOENT', `no such file or directory: ${path}`) : e;
    });
  }
  return row;
}

/** fst.FileType.DIRECTORY, without importing the generated enum into this pure-SQL module. */
const DIRECTORY = 2;

/** One path of inode `ino` (the first name found, for hard links), or undefined when unnamed. */
export async function pathOf(q: Reader, ino: number): Promise<string | undefined> {
  const names: string[] = [];
  let current = ino;
  for (let depth = 0; current !== ROOT_INO; depth++) {
    if (depth > 4096) return undefined; // a loop could only come from a damaged database
    const entry = await q.get<{ parent: number; name: string }>('SELECT parent, name FROM dentries WHERE ino = ? LIMIT 1', [current]);
    if (!entry) return undefined;
    names.push(entry.name);
    current = entry.parent;
  }
  return '/' + names.reverse().join('/');
}
