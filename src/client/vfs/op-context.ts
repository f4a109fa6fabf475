/** Who performs a VFS operation: the FUSE request's caller (uid, gid, groups, pid), passed to the master. */
import type { Caller } from '../types.js';

export interface OpContext {
  uid: number;
  gid: number;
  pid: number;
  /** Supplementary groups (fuse/caller-groups.ts); none when absent. */
  groups?: readonly number[];
}

export function callerOf(ctx: OpContext): Caller {
  return { uid: ctx.uid, gid: ctx.gid, groups: ctx.groups ? [...ctx.groups] : [] };
}

/** A cached answer and how many seconds the kernel may keep it (the TTL it has left here). */
export interface Timed<T> {
  value: T;
  ttlSec: number;
  /** For an entry whose name is trusted longer than its attributes: how long those are. */
  attrTtlSec?: number;
}
