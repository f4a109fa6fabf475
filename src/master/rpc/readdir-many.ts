/**
 * ReaddirMany: the first pages of several directories in one call, the read-ahead of a tree walk
 * (the mount asks for the subdirectories of one it just listed, before the walker opens them). A
 * read-ahead must never hold anything up: a directory another mount holds delegated is left out
 * rather than recalled, and so is one that is gone or not a directory; the listing stops at an
 * entry budget, so one call's work is bounded whatever was asked.
 *
 * With `descend`, the subdirectories each listing names are listed too, depth first in name order:
 * the order in which `find`, `du` or `ls -R` open them, so that the pages a walker needs first come
 * first and one call does the work of many. What the budget leaves is answered as `unlisted`, in
 * the same order, for the mount's next call (a call may then go past its budget by up to one page).
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { Ino } from '../../common/ids.js';
import type { Delegations } from '../sessions/delegations.js';
import type { Namespace } from '../tree/namespace.js';
import { pageSize } from '../tree/readdir.js';
import { inoArg } from './request-checks.js';

/** Directories looked at per call; the rest of a longer request is ignored. */
export const READDIR_MANY_MAX_DIRS = 256;
/** Entries in all per call, unless the request asks for fewer. */
export const READDIR_MANY_MAX_ENTRIES = 10_000;
/** Directories listed per call when descending (each is one more query), and unlisted ones answered. */
export const READDIR_MANY_MAX_LISTINGS = 1024;

/** A directory gone or not a directory is left out; any other failure fails the call with its errno. */
function leftOut(e: unknown): undefined {
  if (e instanceof FsError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
  throw e;
}

export async function readdirMany(ns: Namespace, delegations: Delegations | undefined, r: fst.IReaddirManyRequest): Promise<fst.IReaddirManyResponse> {
  const asked = (r.inos ?? []).slice(0, READDIR_MANY_MAX_DIRS).map((v) => inoArg(Number(v)));
  const budget = r.maxEntries ? Math.min(r.maxEntries, READDIR_MANY_MAX_ENTRIES) : READDIR_MANY_MAX_ENTRIES;
  const limit = pageSize(r.limit ?? 0);
  const descend = r.descend === true;
  const listings: fst.IDirListing[] = [];
  // Directories still to list, the next on top (so the asked ones in their order, and each
  // listing's subdirectories before its siblings).
  const todo = asked.reverse();
  const seen = new Set(todo);
  let total = 0;
  while (todo.length > 0 && total < budget && listings.length < READDIR_MANY_MAX_LISTINGS) {
    const ino = todo.pop()!;
    if (delegations?.heldByOther(r.session ?? '', ino)) continue;
    // Descending, a first page is never cut short by the budget (it is checked before each): the
    // subdirectories a cut page would leave out would be missing from `unlisted`, and the walk
    // would find its own way there, one directory at a time.
    const page = await ns.readdir(ino, '', descend ? limit : Math.min(limit, budget - total), true).catch(leftOut);
    if (!page) continue;
    listings.push({ ino, page });
    total += page.entries.length;
    if (!descend) continue;
    for (let i = page.entries.length - 1; i >= 0; i--) {
      const e = page.entries[i]!;
      // A hard-linked or moved directory met twice is listed once.
      const sub = e.ino as Ino;
      if (e.type === fst.FileType.DIRECTORY && !seen.has(sub)) {
        seen.add(sub);
        todo.push(sub);
      }
    }
  }
  return { listings, unlisted: descend ? todo.reverse().slice(0, READDIR_MANY_MAX_DIRS) : [] };
}
