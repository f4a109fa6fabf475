/**
 * The row shape of the `inodes` table and its conversion to the wire Attr. Shared by every module
 * that reads inodes (tree operations, chunk operations, admin).
 */
import type { fst } from '../../proto-gen/fst.js';
import type { Reader, SqlValue, Tx } from '../db/engine.js';
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

/**
 * An inode row from the values of INODE_COLUMNS at `at` in `v` (a raw row: arrays are much
 * cheaper for SQLite to hand over than objects of 19 named columns).
 */
export function inodeFromValues(v: SqlValue[], at = 0): InodeRow {
  return {
    ino: v[at] as number,
    type: v[at + 1] as number,
    mode: v[at + 2] as number,
    uid: v[at + 3] as number,
    gid: v[at + 4] as number,
    nlink: v[at + 5] as number,
    size: v[at + 6] as number,
    atime_s: v[at + 7] as number,
    atime_ns: v[at + 8] as number,
    mtime_s: v[at + 9] as number,
    mtime_ns: v[at + 10] as number,
    ctime_s: v[at + 11] as number,
    ctime_ns: v[at + 12] as number,
    rdev: v[at + 13] as number,
    replication: v[at + 14] as number,
    parent: v[at + 15] as number | null,
    target: v[at + 16] as string | null,
    has_xattrs: v[at + 17] as number,
    change_seq: v[at + 18] as number,
  };
}

const GET_INODE = `SELECT ${INODE_COLUMNS} FROM inodes WHERE ino = ?`;

/** Reads one inode or fails with ENOENT. */
export async function getInode(db: Reader | Tx, ino: number): Promise<InodeRow> {
  const v = await db.getRaw(GET_INODE, [ino]);
  if (!v) throw new FsError('ENOENT', `no inode ${ino}`);
  return inodeFromValues(v);
}

// Wall clock at start plus the monotonic clock since: nanosecond times that never go backwards
// within one master run (two mutations in the same millisecond still get ordered mtimes).
const epochBaseNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** The master's clock as seconds + nanoseconds. */
export function nowTimespec(): { sec: number; nsec: number } {
  const ns = epochBaseNs + process.hrtime.bigint();
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}
