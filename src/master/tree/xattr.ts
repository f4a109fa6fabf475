/** getxattr(2), setxattr(2), listxattr(2), removexattr(2): rows of `xattrs`, by (ino, name). */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { Reader, Tx } from '../db/engine.js';
import { getInode, nowTimespec } from './inode-row.js';
import type { Cred } from './checks.js';
import { touchCtime } from './inode-writes.js';
import { checkXattrFlags, checkXattrName, checkXattrValue, checkXattrWrite } from './xattr-checks.js';

/** getxattr: the value; ENODATA when the inode has no such attribute, ENOENT when no inode. */
export async function getxattr(q: Reader, ino: number, name: string): Promise<Buffer> {
  checkXattrName(name);
  const row = await q.get<{ value: Buffer }>('SELECT value FROM xattrs WHERE ino = ? AND name = ?', [ino, name]);
  if (row) return row.value;
  await getInode(q, ino);
  throw new FsError('ENODATA', `no xattr ${JSON.stringify(name)} on inode ${ino}`);
}

/** setxattr: creates or replaces per `flags` (XATTR_CREATE: EEXIST; XATTR_REPLACE: ENODATA). */
export async function setxattr(
  tx: Tx,
  ino: number,
  name: string,
  value: Uint8Array,
  flags: number,
  cred: Cred | undefined,
): Promise<void> {
  checkXattrName(name);
  checkXattrValue(value);
  checkXattrFlags(flags);
  const row = await getInode(tx, ino);
  checkXattrWrite(row, name, cred);
  const present = (await tx.get('SELECT 1 AS x FROM xattrs WHERE ino = ? AND name = ?', [ino, name])) !== undefined;
  if (present && flags === fst.XattrFlag.XATTR_CREATE) throw new FsError('EEXIST', `xattr ${JSON.stringify(name)} exists`);
  if (!present && flags === fst.XattrFlag.XATTR_REPLACE) throw new FsError('ENODATA', `no xattr ${JSON.stringify(name)}`);
  // sqlite3 binds a Buffer as a blob but a bare Uint8Array as something else: wrap without copying.
  const blob = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  await tx.run('INSERT INTO xattrs (ino, name, value) VALUES (?, ?, ?) ON CONFLICT (ino, name) DO UPDATE SET value = excluded.value', [
    ino, name, blob,
  ]);
  if (!row.has_xattrs) await tx.run('UPDATE inodes SET has_xattrs = 1 WHERE ino = ?', [ino]);
  await touchCtime(tx, ino, nowTimespec());
}

/** listxattr: every attribute name of `ino`, in name order. */
export async function listxattr(q: Reader, ino: number): Promise<string[]> {
  await getInode(q, ino);
  const rows = await q.all<{ name: string }>('SELECT name FROM xattrs WHERE ino = ? ORDER BY name', [ino]);
  return rows.map((r) => r.name);
}

/** removexattr: ENODATA when absent. */
export async function removexattr(tx: Tx, ino: number, name: string, cred: Cred | undefined): Promise<void> {
  checkXattrName(name);
  const row = await getInode(tx, ino);
  checkXattrWrite(row, name, cred);
  const { changes } = await tx.run('DELETE FROM xattrs WHERE ino = ? AND name = ?', [ino, name]);
  if (changes === 0) throw new FsError('ENODATA', `no xattr ${JSON.stringify(name)} on inode ${ino}`);
  await tx.run('UPDATE inodes SET has_xattrs = CASE WHEN EXISTS (SELECT 1 FROM xattrs WHERE ino = ?) THEN 1 ELSE 0 END WHERE ino = ?', [ino, ino]);
  await touchCtime(tx, ino, nowTimespec());
}
