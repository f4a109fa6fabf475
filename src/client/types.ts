/**
 * The client's own view of the master's messages: plain objects whose fields are all present.
 * protobufjs types nested messages as interfaces with optional fields (`attr?: IAttr | null`), so
 * every layer above would otherwise repeat null checks; converting once at the MetaClient boundary
 * keeps them in one place.
 */
import { fst } from '../proto-gen/fst.js';
import { FsError } from '../common/errors/errno.js';

export { fst };

/** Seconds and nanoseconds since the Unix epoch, as struct timespec. */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** The attributes of one inode, what stat(2) reports. `mode` holds permission bits only. */
export interface Attr {
  ino: number;
  type: fst.FileType;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  atime: Timespec;
  mtime: Timespec;
  ctime: Timespec;
  rdev: number;
  replication: number;
  /** The inode has extended attributes (when false, none need asking for). */
  hasXattrs: boolean;
  /** Directories: counts the changes of their entries (one per changing call). */
  changeSeq: number;
}

/** One replica of a chunk: its chunkserver's id and gRPC address. */
export interface Replica {
  serverId: number;
  address: string;
}

/** Where a chunk lives and at which version; for a write, `replicas` is the chain in order. */
export interface ChunkLocation {
  index: number;
  chunkId: number;
  version: number;
  replicas: Replica[];
  /** The master's access token for this chunk at this version (empty on insecure clusters). */
  token?: Uint8Array;
}

/** One directory entry; `attr` is present when the listing asked for attributes. */
export interface DirEntry {
  name: string;
  ino: number;
  type: fst.FileType;
  attr?: Attr;
}

/** Who asks: the owner of new inodes and the subject of permission checks. */
export interface Caller {
  uid: number;
  gid: number;
  groups: number[];
}

/** What protobufjs hands out for a 64-bit field when the `long` package is installed. */
interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

/**
 * A decoded 64-bit field as a JS number. The generated code configures protobufjs to decode
 * int64/uint64 as numbers (scripts/gen-proto.mjs), but protobufjs hands out Long objects again as
 * soon as anything in the process re-enables Long support, so every 64-bit field read from a
 * decoded message goes through here, once, at this boundary. Values past 2^53 cannot be inode
 * numbers, sizes or versions FST hands out: they are a protocol error (EIO).
 */
export function wireNumber(v: unknown, what = 'integer field'): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number') {
    const l = v as LongLike;
    const n = (l.unsigned ? l.high >>> 0 : l.high) * 2 ** 32 + (l.low >>> 0);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new FsError('EIO', `invalid ${what} on the wire: ${String(v)}`);
}

export function toTimespec(t: fst.ITimespec | null | undefined): Timespec {
  return { sec: wireNumber(t?.sec, 'timestamp'), nsec: t?.nsec ?? 0 };
}

/** Timespec of a JS time in milliseconds (fractional milliseconds keep microseconds). */
export function timespecOfMs(ms: number): Timespec {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6)) };
}

export function msOfTimespec(t: Timespec): number {
  return t.sec * 1000 + t.nsec / 1e6;
}

/** The attributes of a response; a missing Attr is a protocol error, not a POSIX one. */
export function toAttr(a: fst.IAttr | null | undefined, what: string): Attr {
  if (!a) throw new FsError('EIO', `${what}: the master's answer carries no attributes`);
  return {
    ino: wireNumber(a.ino, 'inode number'),
    type: a.type ?? fst.FileType.FILE_TYPE_UNSPECIFIED,
    mode: a.mode ?? 0,
    uid: a.uid ?? 0,
    gid: a.gid ?? 0,
    nlink: a.nlink ?? 0,
    size: wireNumber(a.size, 'size'),
    atime: toTimespec(a.atime),
    mtime: toTimespec(a.mtime),
    ctime: toTimespec(a.ctime),
    rdev: a.rdev ?? 0,
    replication: a.replication ?? 0,
    hasXattrs: a.hasXattrs === true,
    changeSeq: wireNumber(a.changeSeq, 'change_seq'),
  };
}

/**
 * A directory's attributes after a change made in it, as the master answers them with the change;
 * undefined when the answer has none (a master from before the field): the caller must then forget
 * what it cached of the directory.
 */
export function toParentAttr(a: fst.IAttr | null | undefined, what: string): Attr | undefined {
  return a ? toAttr(a, what) : undefined;
}

export function toChunkLocation(c: fst.IChunkLocation): ChunkLocation {
  return {
    index: wireNumber(c.index, 'chunk index'),
    chunkId: wireNumber(c.chunkId, 'chunk id'),
    version: wireNumber(c.version, 'chunk version'),
    replicas: (c.replicas ?? []).map((r) => ({ serverId: wireNumber(r.serverId, 'server id'), address: r.address ?? '' })),
    token: c.token ?? undefined,
  };
}

export function toDirEntry(e: fst.IDirEntry): DirEntry {
  const entry: DirEntry = { name: e.name ?? '', ino: wireNumber(e.ino, 'inode number'), type: e.type ?? fst.FileType.FILE_TYPE_UNSPECIFIED };
  if (e.attr) entry.attr = toAttr(e.attr, 'readdir');
  return entry;
}
