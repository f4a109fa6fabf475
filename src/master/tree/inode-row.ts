/**
 * The row shape of the `inodes` table and its conversion to the wire Attr. Shared by every module
 * that reads inodes (tree operations, chunk operations, admin).
 */
import type { fst } from '../../proto-gen/fst.js';
import type { Reader, Tx } from '../db/sqlite.js';
import { FsError } from '../../common/errors/errno.js';

export interface InodeRow {
  [k: string]: number | string | null;
  ino: number;
  type: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  atime_s: number;
  atime_ns: number;
  mtime_s: number;
  mtime_ns: number;
  ctime_s: number;
  ctime_ns: number;
  rdev: number;
  replication: number;
  parent: number | null;
  target: string | null;
  has_xattrs: number;
  change_seq: number;
}

export const INODE_COLUMNS =
  'ino, type, mode, uid, gid, nlink, size, atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, rdev, replication, parent, target, has_xattrs, change_seq';

export function rowToAttr(r: InodeRow): fst.IAttr {
  return {
    ino: r.ino,
    type: r.type,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    nlink: r.nlink,
    size: r.size,
    atime: { sec: r.atime_s, nsec: r.atime_ns },
    mtime: { sec: r.mtime_s, nsec: r.mtime_ns },
    ctime: { sec: r.ctime_s, nsec: r.ctime_ns },
    rdev: r.rdev,
    replication: r.replication,
    hasXattrs: r.has_xattrs === 1,
    changeSeq: r.change_seq,
  };
}

/** Reads one inode or fails with ENOENT. */
export async function getInode(db: Reader | Tx, ino: number): Promise<InodeRow> {
  const row = await db.get<InodeRow>(`SELECT ${INODE_COLUMNS} FROM inodes WHERE ino = ?`, [ino]);
  if (!row) throw new FsError('ENOENT', `no inode ${ino}`);
  return row;
}

// Wall clock at start plus the monotonic clock since: nanosecond times that never go backwards
// within one master run (two mutations in the same millisecond still get ordered mtimes).
const epochBaseNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** The master's clock as seconds + nanoseconds. */
export function nowTimespec(): { sec: number; nsec: number } {
  const ns = epochBaseNs + process.hrtime.bigint();
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}
