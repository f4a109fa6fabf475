/**
 * ApplyChanges: a batch of changes a mount already answered in directories delegated to it
 * (sessions/delegations.ts): names made, removed and moved there, and attributes changed of the
 * inodes named there. Each runs as the same call would alone, with the time and inode
 * numbers the mount gave, and all of them are queued at once so that the writer commits them
 * together (db/txn.ts groups them, each in its own savepoint: a failing one is undone alone).
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import type { Delegations } from '../sessions/delegations.js';
import type { Namespace, Stamp } from '../tree/namespace.js';
import { callerArg, inoArg, nameArg } from './request-checks.js';

/** Most changes in one batch. */
export const MAX_CHANGES = 1024;

/** The directories a change touches ([] for a change without an operation: applyOne refuses it). */
function dirsOf(c: fst.IChange): number[] {
  const req = c.mkdir ?? c.symlink ?? c.unlink ?? c.rmdir;
  if (req) return [inoArg(req.parent, 'parent')];
  if (c.rename) return [inoArg(c.rename.parent, 'parent'), inoArg(c.rename.newParent, 'new_parent')];
  if (c.setattr) return [inoArg(c.parent, 'parent')];
  return [];
}

function stampOf(c: fst.IChange): Stamp {
  const stamp: Stamp = { ino: inoArg(c.ino) };
  if (c.time) stamp.now = { sec: Number(c.time.sec ?? 0), nsec: c.time.nsec ?? 0 };
  return stamp;
}

/**
 * Runs a queued mkdir or symlink; EEXIST from a name that already holds the very inode the mount
 * numbered it with means this change was applied before (a batch whose answer was lost when the
 * master died or was cut off, sent again): that is success. Inode numbers the mount gives are its
 * own (reserved for its session), so nobody else's entry can match.
 */
async function createOnce(ns: Namespace, parent: number, name: string, stamp: Stamp, create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (e) {
    if (!(e instanceof FsError) || e.code !== 'EEXIST' || stamp.ino === undefined) throw e;
    const there = await ns.lookup(parent, name).catch(() => undefined);
    if (Number(there?.ino ?? 0) !== stamp.ino) throw e;
  }
}

async function applyOne(ns: Namespace, c: fst.IChange): Promise<void> {
  const stamp = stampOf(c);
  if (c.mkdir) {
    const r = c.mkdir;
    const [parent, name] = [inoArg(r.parent, 'parent'), nameArg(r.name)];
    await createOnce(ns, parent, name, stamp, () => ns.mkdir(parent, name, r.mode ?? 0, callerArg(r.caller), stamp));
  } else if (c.symlink) {
    const r = c.symlink;
    const [parent, name] = [inoArg(r.parent, 'parent'), nameArg(r.name)];
    await createOnce(ns, parent, name, stamp, () => ns.symlink(parent, name, nameArg(r.target, 'target'), callerArg(r.caller), stamp));
  } else if (c.unlink) {
    const r = c.unlink;
    await ns.unlink(inoArg(r.parent, 'parent'), nameArg(r.name), callerArg(r.caller), 0, stamp);
  } else if (c.rmdir) {
    const r = c.rmdir;
    await ns.rmdir(inoArg(r.parent, 'parent'), nameArg(r.name), callerArg(r.caller), stamp);
  } else if (c.rename) {
    const r = c.rename;
    await ns.rename(inoArg(r.parent, 'parent'), nameArg(r.name), inoArg(r.newParent, 'new_parent'), nameArg(r.newName, 'new_name'),
      false, callerArg(r.caller), 0, stamp);
  } else if (c.setattr) {
    const r = c.setattr;
    // Sizes go to the master directly (the chunks past the new end are cut first).
    if ((r.fields ?? 0) & fst.SetAttrField.SET_ATTR_SIZE) throw new FsError('EINVAL', 'a size change cannot be queued');
    await ns.setattr(inoArg(r.ino), r, callerArg(r.caller), stamp);
  } else {
    throw new FsError('EINVAL', 'a change without an operation');
  }
}

export async function applyChanges(ns: Namespace, delegations: Delegations, session: string, changes: fst.IChange[]): Promise<fst.IChangeResult[]> {
  if (session === '') throw new FsError('EINVAL', 'ApplyChanges needs a session');
  if (changes.length > MAX_CHANGES) throw new FsError('EINVAL', `more than ${MAX_CHANGES} changes in one batch`);
  // A malformed change fails alone (its directories read as none; applyOne refuses it).
  const dirs = changes.map((c) => {
    try {
      return dirsOf(c);
    } catch {
      return [];
    }
  });
  // After a restart the master holds no delegation: the mount takes back those nobody else took.
  delegations.acquire(session, [...new Set(dirs.flat())]);
  const outcomes = await Promise.allSettled(changes.map((c, i) => delegations.during(session, dirs[i]!, true, () => applyOne(ns, c))));
  const results: fst.IChangeResult[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'fulfilled') {
      // A directory made here is the session's alone until it releases it; one removed is nobody's.
      const c = changes[i]!;
      if (c.mkdir) delegations.acquire(session, [inoArg(c.ino)]);
      if (c.rmdir) delegations.release(session, [inoArg(c.ino)]);
      results.push({});
    } else {
      const err: unknown = o.reason;
      results.push({ errno: toErrno(err), message: err instanceof Error ? err.message : String(err) });
    }
  });
  return results;
}
