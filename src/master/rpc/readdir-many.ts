/**
 * ReaddirMany: the first pages of several directories in one call, the read-ahead of a tree walk
 * (the mount asks for the subdirectories of one it just listed, before the walker opens them). A
 * read-ahead must never hold anything up: a directory another mount holds delegated is left out
 * rather than recalled, and so is one that is gone or not a directory; the listing stops at an
 * entry budget, so one call's work is bounded whatever was asked.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { Delegations } from '../sessions/delegations.js';
import type { Namespace } from '../tree/namespace.js';
import { pageSize } from '../tree/readdir.js';
import { inoArg } from './request-checks.js';

/** Directories looked at per call; the rest of a longer request is ignored. */
export const READDIR_MANY_MAX_DIRS = 256;
/** Entries in all per call, unless the request asks for fewer. */
export const READDIR_MANY_MAX_ENTRIES = 10_000;

/** A directory gone or not a directory is left out; any other failure fails the call with its errno. */
function leftOut(e: unknown): undefined {
  if (e instanceof FsError && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return undefined;
  throw e;
}

export async function readdirMany(ns: Namespace, delegations: Delegations | undefined, r: fst.IReaddirManyRequest): Promise<fst.IReaddirManyResponse> {
  const inos = (r.inos ?? []).slice(0, READDIR_MANY_MAX_DIRS).map((v) => inoArg(Number(v)));
  const budget = r.maxEntries ? Math.min(r.maxEntries, READDIR_MANY_MAX_ENTRIES) : READDIR_MANY_MAX_ENTRIES;
  const limit = pageSize(r.limit ?? 0);
  const listings: fst.IDirListing[] = [];
  let total = 0;
  for (const ino of inos) {
    if (total >= budget) break;
    if (delegations?.heldByOther(r.session ?? '', ino)) continue;
    const page = await ns.readdir(ino, '', Math.min(limit, budget - total), true).catch(leftOut);
    if (!page) continue;
    listings.push({ ino, page });
    total += page.entries.length;
  }
  return { listings };
}
