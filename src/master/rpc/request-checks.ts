/** Argument checks shared by the master's handlers: a malformed request is EINVAL, never a crash. */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { toIno, type Ino } from '../../common/ids.js';

export interface CallerIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

export function inoArg(value: number | null | undefined, what = 'ino'): Ino {
  if (typeof value !== 'number') throw new FsError('EINVAL', `missing ${what}`);
  try {
    return toIno(value);
  } catch {
    throw new FsError('EINVAL', `invalid ${what} ${value}`);
  }
}

export function nameArg(value: string | null | undefined, what = 'name'): string {
  if (typeof value !== 'string') throw new FsError('EINVAL', `missing ${what}`);
  return value;
}

/** The caller, when the request names one (absent: the daemon-level client, treated as root). */
export function callerArg(c: fst.ICaller | null | undefined): CallerIdentity | undefined {
  if (!c) return undefined;
  return { uid: c.uid ?? 0, gid: c.gid ?? 0, groups: c.groups ?? [] };
}

/** An optional inode number: 0 or absent means none. */
export function optionalIno(value: number | null | undefined, what = 'ino'): number {
  if (value === undefined || value === null || value === 0) return 0;
  return inoArg(value, what);
}
