/** mknod(2) (also open with O_CREAT) and mkdir(2). */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { Tx } from '../db/engine.js';
import { nowTimespec, rowToAttr } from './inode-row.js';
import { S_ISGID, S_ISUID, isDots, rejectDots, type Cred } from './checks.js';
import { checkCreateAccess, createInode, prepareCreate, type CreateResult } from './create.js';
import { stampTime, type Stamp } from './stamp.js';

const MKNOD_TYPES: ReadonlySet<number> = new Set([
  fst.FileType.REGULAR, fst.FileType.FIFO, fst.FileType.CHAR_DEVICE, fst.FileType.BLOCK_DEVICE, fst.FileType.SOCKET,
]);

export interface MknodResult extends CreateResult {
  created: boolean;
}

export interface MknodArgs {
  parent: number;
  name: string;
  type: fst.FileType;
  mode: number;
  rdev: number;
  exclusive: boolean;
}

/**
 * mknod: creates a regular file, fifo, device or socket. Without `exclusive` (O_CREAT alone) an
 * existing regular file is returned untouched with created=false, as open(2) would open it.
 */
export async function mknod(tx: Tx, a: MknodArgs, cred: Cred | undefined): Promise<MknodResult> {
  if (!MKNOD_TYPES.has(a.type)) throw new FsError('EINVAL', `mknod cannot create file type ${a.type}`);
  // "." and ".." always name a directory: open(".", O_CREAT) is EISDIR, with O_EXCL EEXIST.
  if (isDots(a.name)) rejectDots(a.name, a.exclusive ? 'EEXIST' : 'EISDIR', 'mknod');
  const { dir, existing } = await prepareCreate(tx, a.parent, a.name, cred);
  if (existing) {
    if (a.exclusive) throw new FsError('EEXIST', `${JSON.stringify(a.name)} exists in directory ${dir.ino}`);
    if (existing.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', `${JSON.stringify(a.name)} is a directory`);
    if (existing.type !== fst.FileType.REGULAR) throw new FsError('EEXIST', `${JSON.stringify(a.name)} exists`);
    return { attr: rowToAttr(existing), created: false, parentAttr: rowToAttr(dir) };
  }
  checkCreateAccess(dir, cred);
  const isDevice = a.type === fst.FileType.CHAR_DEVICE || a.type === fst.FileType.BLOCK_DEVICE;
  const made = await createInode(tx, dir, a.name, { type: a.type, mode: a.mode, rdev: isDevice ? a.rdev : 0 }, cred, nowTimespec());
  return { attr: rowToAttr(made.row), created: true, parentAttr: rowToAttr(made.dir) };
}

/** mkdir: a new empty directory (nlink 2); the parent gains a link for the new "..". */
export async function mkdir(tx: Tx, parent: number, name: string, mode: number, cred: Cred | undefined, stamp?: Stamp): Promise<CreateResult> {
  rejectDots(name, 'EEXIST', 'mkdir');
  const { dir, existing } = await prepareCreate(tx, parent, name, cred);
  if (existing) throw new FsError('EEXIST', `${JSON.stringify(name)} exists in directory ${dir.ino}`);
  checkCreateAccess(dir, cred);
  // Linux ignores setuid and setgid in mkdir's mode; setgid comes only from the parent.
  const made = await createInode(tx, dir, name, { type: fst.FileType.DIRECTORY, mode: mode & ~(S_ISGID | S_ISUID) }, cred, stampTime(stamp), stamp?.ino);
  return { attr: rowToAttr(made.row), parentAttr: rowToAttr(made.dir) };
}
