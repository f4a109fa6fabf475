/**
 * A create retried after an attempt whose fate is unknown (the master killed or cut off after the
 * request went out, RpcCallOptions.delivery) may answer EEXIST because that first attempt was
 * applied: the name is there, made by this very call. Without a record of requests on the master,
 * the client recognises its own entry as NFSv3 clients do without a duplicate request cache: the
 * entry is of the type asked, with the permission bits asked, owned by the caller, untouched since
 * (an empty file of one link, an empty directory, a symlink of the target's length) and changed no earlier
 * than the call began, less the clocks' skew. Only then is EEXIST taken for success; anything else
 * stays EEXIST. The one case it gets wrong needs another process of the same owner to make the same
 * name with the same mode within the same instant of a master failover.
 */
import type { Attr } from './types.js';
import { fst } from './types.js';

/** How far the master's clock may run behind this client's for the entry's ctime to count. */
const CLOCK_SKEW_MS = 30_000;

export interface CreateAsked {
  type: fst.FileType;
  /** Permission bits asked (umask applied); setuid/setgid bits are not compared. */
  mode: number;
  uid: number;
  /** Date.now() before the first attempt was sent. */
  sentAtMs: number;
  /** A symlink's target length (its size). */
  size?: number;
}

/** Whether `found` (the entry at the name) is what the ambiguous attempt of `asked` made. */
export function madeByThisCall(found: Attr, asked: CreateAsked): boolean {
  if (found.type !== asked.type || (found.mode & 0o777) !== (asked.mode & 0o777) || found.uid !== asked.uid) return false;
  const ctimeMs = found.ctime.sec * 1000 + found.ctime.nsec / 1e6;
  if (ctimeMs < asked.sentAtMs - CLOCK_SKEW_MS) return false;
  if (found.type === fst.FileType.DIRECTORY) return found.nlink === 2;
  if (found.type === fst.FileType.REGULAR) return found.nlink === 1 && found.size === 0;
  return found.nlink === 1 && (asked.size === undefined || found.size === asked.size);
}
