/** Who performs a VFS operation: the FUSE request's caller (uid, gid, pid), passed to the master. */
import type { Caller } from '../types.js';

export interface OpContext {
  uid: number;
  gid: number;
  pid: number;
}

export function callerOf(ctx: OpContext): Caller {
  return { uid: ctx.uid, gid: ctx.gid, groups: [] };
}

/** A cached answer and how many seconds the kernel may keep it (the TTL it has left here). */
export interface Timed<T> {
  value: T;
  ttlSec: number;
  /** For an entry whose name is trusted longer than its attributes: how long those are. */
  attrTtlSec?: number;
}
