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
