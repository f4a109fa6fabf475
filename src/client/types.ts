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

export function toTimespec(t: fst.ITimespec | null | undefined): Timespec {
  return { sec: t?.sec ?? 0, nsec: t?.nsec ?? 0 };
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
    ino: a.ino ?? 0,
    type: a.type ?? fst.FileType.FILE_TYPE_UNSPECIFIED,
    mode: a.mode ?? 0,
    uid: a.uid ?? 0,
    gid: a.gid ?? 0,
    nlink: a.nlink ?? 0,
    size: a.size ?? 0,
    atime: toTimespec(a.atime),
    mtime: toTimespec(a.mtime),
    ctime: toTimespec(a.ctime),
    rdev: a.rdev ?? 0,
    replication: a.replication ?? 0,
  };
}

export function toChunkLocation(c: fst.IChunkLocation): ChunkLocation {
  return {
    index: c.index ?? 0,
    chunkId: c.chunkId ?? 0,
    version: c.version ?? 0,
    replicas: (c.replicas ?? []).map((r) => ({ serverId: r.serverId ?? 0, address: r.address ?? '' })),
  };
}

export function toDirEntry(e: fst.IDirEntry): DirEntry {
  const entry: DirEntry = { name: e.name ?? '', ino: e.ino ?? 0, type: e.type ?? fst.FileType.FILE_TYPE_UNSPECIFIED };
  if (e.attr) entry.attr = toAttr(e.attr, 'readdir');
  return entry;
}
