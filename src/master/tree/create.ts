/**
 * What every creating operation (mknod, mkdir, symlink, link) shares: checking the new name and
 * its directory in the order Linux does (search permission, existing name, write permission), and
 * writing a new inode plus its entry with ownership, setgid and replication inherited.
 */
import { fst } from '../../proto-gen/fst.js';
import type { Tx } from '../db/engine.js';
import type { InodeRow } from './inode-row.js';
import { MAY_EXEC, MAY_WRITE, S_ISGID, checkAccess, checkName, creationMode, type Cred } from './checks.js';
import { addCounter, allocIno, reservedIno } from './counters.js';
import { getDirAndChild, insertEntry } from './entries.js';
import { insertInode, touchDir, type Timespec } from './inode-writes.js';

/**
 * What a creating call answers: the new inode and its directory as committed with it (NFS "wcc
 * data"), so that a client can keep its cached copy of the directory instead of asking again.
 */
export interface CreateResult {
  attr: fst.IAttr;
  parentAttr: fst.IAttr;
}

export interface CreateTarget {
  dir: InodeRow;
  /** The inode already named `name` there, if any: each operation decides what that means. */
  existing: InodeRow | undefined;
}

/**
 * Checks `name` and loads its directory. The caller handles "." and ".." before this (their
 * errno differs per operation) and calls `checkCreateAccess` once it knows the name is free, so
 * that an existing name reports EEXIST even in a directory the caller may not write.
 */
export async function prepareCreate(tx: Tx, parent: number, name: string, cred: Cred | undefined): Promise<CreateTarget> {
  checkName(name, 'create');
  const { dir, child } = await getDirAndChild(tx, parent, name);
  checkAccess(dir, cred, MAY_EXEC);
  return { dir, existing: child };
}

export function checkCreateAccess(dir: InodeRow, cred: Cred | undefined): void {
  checkAccess(dir, cred, MAY_WRITE | MAY_EXEC);
}

export interface NewInode {
  type: fst.FileType;
  mode: number;
  rdev?: number;
  size?: number;
  target?: string;
}

/**
 * Inserts a new inode named `name` in `dir`; bumps the directory and the counters. Answers the new
 * inode's row and the directory's as written.
 */
export async function createInode(
  tx: Tx,
  dir: InodeRow,
  name: string,
  spec: NewInode,
  cred: Cred | undefined,
  now: Timespec,
  /** The number a mount gave it (reserved by Delegate); absent: the next free one. */
  presetIno?: number,
): Promise<{ row: InodeRow; dir: InodeRow }> {
  const isDir = spec.type === fst.FileType.DIRECTORY;
  // A setgid directory hands its group to new entries, and its setgid bit to new subdirectories.
  const inheritGid = (dir.mode & S_ISGID) !== 0;
  const gid = inheritGid ? dir.gid : (cred?.gid ?? 0);
  let mode = creationMode(spec.mode, isDir, gid, cred);
  if (isDir && inheritGid) mode |= S_ISGID;
  const row: InodeRow = {
    ino: presetIno === undefined ? await allocIno(tx) : await reservedIno(tx, presetIno),
    type: spec.type,
    mode,
    uid: cred?.uid ?? 0,
    gid,
    nlink: isDir ? 2 : 1,
    size: spec.size ?? 0,
    atime_s: now.sec, atime_ns: now.nsec,
    mtime_s: now.sec, mtime_ns: now.nsec,
    ctime_s: now.sec, ctime_ns: now.nsec,
    rdev: spec.rdev ?? 0,
    replication: dir.replication,
    parent: isDir ? dir.ino : null,
    target: spec.target ?? null,
    has_xattrs: 0,
    change_seq: 0,
  };
  await insertInode(tx, row);
  await insertEntry(tx, dir.ino, name, row.ino, row.type);
  // A subdirectory's ".." is one more link to its parent.
  const touched = await touchDir(tx, dir, now, isDir ? 1 : 0);
  if (isDir) await addCounter(tx, 'directories', 1);
  else if (spec.type === fst.FileType.REGULAR) await addCounter(tx, 'files', 1);
  return { row, dir: touched };
}
