/**
 * mkdir, symlink, unlink, rmdir and rename answered by this mount alone, in directories delegated
 * to it (delegated-dirs.ts) whose listing it holds, and chmod, chown and utimens of the files named
 * there whose attributes it knows exactly (exact-attrs.ts): what the master would answer is known here, so
 * the caller gets it at once and the change follows in a batch (change-queue.ts). Each function
 * answers undefined (or false) when the case is not one it can decide alone; the caller then asks
 * the master as before. The kernel has already checked permissions (default_permissions), the
 * sticky bit and the types of the names involved; the master checks everything again when the
 * change arrives.
 */
import { FsError } from '../../common/errors/errno.js';
import { isPlainName, PATH_MAX } from '../../common/ids.js';
import { S_ISGID, S_ISUID, toCred } from '../../common/permissions.js';
import { checkSetattr, resultingMode } from '../../common/setattr-checks.js';
import { setAttrRequest } from '../meta-client.js';
import { fst, type Attr, type Caller, type Timespec } from '../types.js';
import type { SetattrChanges } from './ops-attr.js';
import { callerOf, type OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';

/** A directory this mount may change alone now: its attributes and listing, of one change_seq. */
interface OwnDir {
  attr: Attr;
  names: ReadonlyMap<string, number>;
}

function ownDir(s: VfsState, dir: number): OwnDir | undefined {
  if (!s.delegated?.holds(dir)) return undefined;
  const listing = s.entries.listings.delegated(dir);
  const attr = s.entries.lastAttr(dir);
  if (!listing || !attr || attr.type !== fst.FileType.DIRECTORY || attr.changeSeq !== listing.seq) return undefined;
  return { attr, names: listing.names };
}

/** The directory after one change of its entries: what the master's touchDir will write. */
function changedDir(attr: Attr, now: Timespec, nlinkDelta: number): Attr {
  return { ...attr, mtime: now, ctime: now, nlink: attr.nlink + nlinkDelta, changeSeq: attr.changeSeq + 1 };
}

/**
 * Queues a change; should the master refuse it, what this mount knows of the directories it
 * touched is dropped (and their delegations given back), so the next call asks the master.
 */
function queue(s: VfsState, change: fst.IChange, dirs: number[], forget: number[] = []): void {
  s.changes!.add({
    change,
    inos: [...dirs, ...forget],
    onFailure: () => {
      for (const d of dirs) {
        s.entries.dirChanged(d, undefined);
        s.delegated?.giveBack(d);
      }
      for (const ino of forget) {
        s.entries.forgetAttr(ino);
        s.entries.listings.forget(ino);
      }
    },
  });
}

/** A new inode's attributes as the master's createInode makes them. */
function newInode(dir: Attr, ino: number, type: fst.FileType, mode: number, size: number, now: Timespec, ctx: OpContext): Attr {
  // A setgid directory hands its group to new entries (and its setgid bit to new subdirectories).
  const inheritGid = (dir.mode & S_ISGID) !== 0;
  return {
    ino, type, mode, uid: ctx.uid, gid: inheritGid ? dir.gid : ctx.gid, nlink: type === fst.FileType.DIRECTORY ? 2 : 1, size,
    atime: now, mtime: now, ctime: now, rdev: 0, replication: dir.replication, hasXattrs: false, changeSeq: 0,
  };
}

export function mkdirHere(s: VfsState, parent: number, name: string, mode: number, ctx: OpContext): Attr | undefined {
  const dir = isPlainName(name) ? ownDir(s, parent) : undefined;
  if (!dir || dir.names.has(name)) return undefined;
  const ino = s.delegated!.takeIno();
  if (ino === undefined) return undefined;
  const now = s.delegated!.now();
  const bits = (mode & 0o7777 & ~(S_ISGID | S_ISUID)) | (dir.attr.mode & S_ISGID);
  const attr = newInode(dir.attr, ino, fst.FileType.DIRECTORY, bits, 0, now, ctx);
  queue(s, { mkdir: { parent, name, mode: mode & 0o7777, caller: callerOf(ctx) }, ino, time: now }, [parent], [ino]);
  s.entries.added(parent, name, attr, changedDir(dir.attr, now, 1));
  s.entries.noteNoXattrs(ino);
  // Nobody else can know it yet: it is this mount's, empty, from the start (the master agrees when the change arrives).
  s.delegated!.made(ino);
  s.entries.listings.delegate(ino, 0);
  // Every inode named in it will have been made under this delegation: their attributes are exact.
  s.entries.exact.granted(ino, true);
  return attr;
}

export function symlinkHere(s: VfsState, parent: number, name: string, target: string, ctx: OpContext): Attr | undefined {
  const size = Buffer.byteLength(target);
  const dir = isPlainName(name) && size > 0 && size < PATH_MAX && !target.includes('\0') ? ownDir(s, parent) : undefined;
  if (!dir || dir.names.has(name)) return undefined;
  const ino = s.delegated!.takeIno();
  if (ino === undefined) return undefined;
  const now = s.delegated!.now();
  const attr = newInode(dir.attr, ino, fst.FileType.SYMLINK, 0o777, size, now, ctx);
  queue(s, { symlink: { parent, name, target, caller: callerOf(ctx) }, ino, time: now }, [parent], [ino]);
  s.entries.added(parent, name, attr, changedDir(dir.attr, now, 0));
  s.entries.noteNoXattrs(ino);
  return attr;
}

/** The inode's attributes after losing one link (or forgotten when none is left to show). */
function lostLink(s: VfsState, ino: number, now: Timespec): void {
  const a = s.entries.lastAttr(ino);
  if (a && a.nlink > 1) s.entries.update({ ...a, nlink: a.nlink - 1, ctime: now });
  else s.entries.forgetAttr(ino);
}

export function unlinkHere(s: VfsState, parent: number, name: string, ctx: OpContext): boolean {
  const dir = ownDir(s, parent);
  const ino = dir?.names.get(name);
  // A file open here needs the master's answer (it may be kept as an orphan, orphans.ts).
  if (!dir || ino === undefined || s.files.isOpen(ino) || s.entries.lastAttr(ino)?.type === fst.FileType.DIRECTORY) return false;
  const now = s.delegated!.now();
  queue(s, { unlink: { parent, name, caller: callerOf(ctx) }, ino, time: now }, [parent], [ino]);
  lostLink(s, ino, now);
  s.entries.removed(parent, name, changedDir(dir.attr, now, 0));
  return true;
}

export function rmdirHere(s: VfsState, parent: number, name: string, ctx: OpContext): boolean {
  const dir = ownDir(s, parent);
  const ino = dir?.names.get(name);
  // Empty is known only of a directory held here too (nobody else can add to it meanwhile).
  const victim = ino === undefined ? undefined : ownDir(s, ino);
  if (!dir || ino === undefined || !victim || victim.names.size > 0) return false;
  const now = s.delegated!.now();
  queue(s, { rmdir: { parent, name, caller: callerOf(ctx) }, ino, time: now }, [parent, ino], [ino]);
  s.entries.forgetAttr(ino);
  s.entries.listings.forget(ino);
  s.entries.removed(parent, name, changedDir(dir.attr, now, -1));
  // The master lets go of it when the removal arrives.
  s.delegated!.forget(ino);
  return true;
}

export function renameHere(s: VfsState, parent: number, name: string, newParent: number, newName: string, flags: number, ctx: OpContext): boolean {
  if (flags !== 0 || !isPlainName(newName)) return false;
  const src = ownDir(s, parent);
  const dst = newParent === parent ? src : ownDir(s, newParent);
  const ino = src?.names.get(name);
  if (!src || !dst || ino === undefined) return false;
  const moved = s.entries.lastAttr(ino);
  // A directory moves only within its parent here (moving it elsewhere changes its ".." and link counts).
  if (!moved || (moved.type === fst.FileType.DIRECTORY && newParent !== parent)) return false;
  const target = dst.names.get(newName);
  if (target !== undefined) {
    const t = s.entries.lastAttr(target);
    // Replacing a directory, an open file or the inode itself (two names of one file) is the master's to judge.
    if (target === ino || !t || t.type === fst.FileType.DIRECTORY || moved.type === fst.FileType.DIRECTORY || s.files.isOpen(target)) return false;
  }
  const now = s.delegated!.now();
  const forget = target === undefined ? [ino] : [ino, target];
  queue(s, { rename: { parent, name, newParent, newName, caller: callerOf(ctx) }, ino, time: now }, newParent === parent ? [parent] : [parent, newParent], forget);
  s.entries.update({ ...moved, ctime: now });
  if (target !== undefined) lostLink(s, target, now);
  const srcAttr = changedDir(src.attr, now, 0);
  s.entries.renamed(parent, name, newParent, newName, srcAttr, newParent === parent ? srcAttr : changedDir(dst.attr, now, 0));
  return true;
}

/**
 * The mode after a chmod or chown as the master will make it, when this caller may make the change
 * by the master's own rules (common/setattr-checks.ts); undefined when it may not: the master then
 * answers, with its errno.
 */
function modeAfter(a: Attr, req: fst.ISetAttrRequest, caller: Caller): number | undefined {
  const cred = toCred(caller);
  try {
    checkSetattr(a, req, cred);
  } catch (e) {
    // A refusal: the master gives it, with its errno. Anything else is a fault of this code.
    if (e instanceof FsError) return undefined;
    throw e;
  }
  return resultingMode(a, req, req.gid ?? a.gid, cred);
}

/**
 * The attributes of `ino` as this mount knows them exactly (exact-attrs.ts), in a directory it
 * holds now, still under the name it was listed under: what the master has, with this mount's
 * changes not sent yet.
 */
export function exactHere(s: VfsState, ino: number): { dir: number; attr: Attr } | undefined {
  const known = s.delegated ? s.entries.exact.get(ino) : undefined;
  if (!known) return undefined;
  const dir = ownDir(s, known.dir);
  return dir?.names.get(known.name) === ino ? known : undefined;
}

/** The attributes of what `name` names in `parent`, when this mount holds `parent` and knows them exactly. */
export function exactNamed(s: VfsState, parent: number, name: string): Attr | undefined {
  const ino = s.entries.listings.delegated(parent)?.names.get(name);
  if (ino === undefined) return undefined;
  const known = exactHere(s, ino);
  return known?.dir === parent ? known.attr : undefined;
}

/**
 * chmod, chown, utimens of a file named in a directory this mount holds, whose attributes it knows
 * exactly and which is not open here (an open file's pending writes set its size and mtime): the
 * new attributes, or undefined when the master must answer (a size, a refusal, a file with
 * several names).
 */
export function setattrHere(s: VfsState, ino: number, c: SetattrChanges, ctx: OpContext): Attr | undefined {
  if (c.size !== undefined) return undefined;
  if (c.mode === undefined && c.uid === undefined && c.gid === undefined && c.atime === undefined && c.mtime === undefined) return undefined;
  const known = s.files.isOpen(ino) ? undefined : exactHere(s, ino);
  if (!known || !s.delegated) return undefined;
  const caller = callerOf(ctx);
  const a = known.attr;
  const req = setAttrRequest(ino, c, caller);
  const mode = modeAfter(a, req, caller);
  if (mode === undefined) return undefined;
  const now = s.delegated.now();
  const time = (t: SetattrChanges['atime'], was: Timespec): Timespec => (t === 'now' ? now : t ?? was);
  const attr: Attr = {
    ...a, mode, uid: c.uid ?? a.uid, gid: c.gid ?? a.gid, atime: time(c.atime, a.atime), mtime: time(c.mtime, a.mtime), ctime: now,
  };
  queue(s, { setattr: req, parent: known.dir, ino, time: now }, [known.dir], [ino]);
  s.entries.exact.changedHere(attr);
  s.entries.update(attr);
  return attr;
}
