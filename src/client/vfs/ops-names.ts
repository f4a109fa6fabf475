/** lookup, mknod, mkdir, unlink, rmdir, rename, link, symlink, readlink. */
import { constants } from 'node:fs';
import { FsError } from '../../common/errors/errno.js';
import { fst, type Attr } from '../types.js';
import { shown, staleIfGone } from './ops-attr.js';
import { callerOf, type OpContext, type Timed } from './op-context.js';
import { exactNamed, mkdirHere, renameHere, rmdirHere, symlinkHere, unlinkHere } from './ops-delegated.js';
import type { VfsState } from './vfs-state.js';

/** renameat2 flags. */
const RENAME_NOREPLACE = 1;

export async function lookup(s: VfsState, parent: number, name: string): Promise<Timed<Attr>> {
  // A name in a directory held here whose attributes are known exactly: answered whole, for the
  // full TTL (the kernel then needs no getattr before a chmod of it).
  const exact = s.delegated ? exactNamed(s, parent, name) : undefined;
  if (exact) return { value: shown(s, exact), ttlSec: s.entries.ttlSec };
  // A file open here is never answered with old attributes: its size must not go back. A name the
  // master would be asked for waits for the directory's grant when one is on its way: the listing
  // then answers, no later than the master would.
  const found = await s.entries.lookup(parent, name, (ino) => !s.files.isOpen(ino), () => s.delegated?.asked(parent));
  // A directory looked up while this mount changes others is about to be changed too (`rm -r`).
  if (found.value.type === fst.FileType.DIRECTORY) s.delegated?.seen(found.value.ino);
  return { value: shown(s, found.value), ttlSec: found.ttlSec };
}

const typeOfMode: Record<number, fst.FileType> = {
  [constants.S_IFREG]: fst.FileType.REGULAR,
  [constants.S_IFIFO]: fst.FileType.FIFO,
  [constants.S_IFCHR]: fst.FileType.CHAR_DEVICE,
  [constants.S_IFBLK]: fst.FileType.BLOCK_DEVICE,
  [constants.S_IFSOCK]: fst.FileType.SOCKET,
};

/** mknod(2): regular files, fifos, devices and sockets (the kernel sends directories to mkdir). */
export async function mknod(s: VfsState, parent: number, name: string, mode: number, rdev: number, ctx: OpContext): Promise<Attr> {
  const fmt = mode & constants.S_IFMT;
  const type = fmt === 0 ? fst.FileType.REGULAR : typeOfMode[fmt];
  if (type === undefined) throw new FsError('EINVAL', `mknod of file type 0${fmt.toString(8)}`);
  const { attr } = await adding(s, parent, name, () => s.meta.mknod(parent, name, mode & 0o7777, { type, rdev, exclusive: true }, { caller: callerOf(ctx) }));
  s.entries.noteNoXattrs(attr.ino);
  return attr;
}

export async function mkdir(s: VfsState, parent: number, name: string, mode: number, ctx: OpContext): Promise<Attr> {
  const here = mkdirHere(s, parent, name, mode, ctx);
  if (here) return here;
  const { attr } = await adding(s, parent, name, () => s.meta.mkdir(parent, name, mode, { caller: callerOf(ctx) }));
  s.entries.noteNoXattrs(attr.ino);
  return attr;
}

export async function symlink(s: VfsState, parent: number, name: string, target: string, ctx: OpContext): Promise<Attr> {
  const here = symlinkHere(s, parent, name, target, ctx);
  if (here) return here;
  const { attr } = await adding(s, parent, name, () => s.meta.symlink(parent, name, target, { caller: callerOf(ctx) }));
  s.entries.noteNoXattrs(attr.ino);
  return attr;
}

/**
 * Runs a call of the master that adds `name` to `parent`, and caches its answer (the inode, and the
 * directory as committed). A failure (EEXIST: a listing of the directory missed a name made
 * elsewhere) leaves nothing known of the directory.
 */
export async function adding<T extends { attr: Attr; parentAttr: Attr | undefined }>(s: VfsState, parent: number, name: string, call: () => Promise<T>): Promise<T> {
  let done: T;
  const grant = s.entries.exact.exactGrant(parent);
  try {
    done = await call();
  } catch (e) {
    s.entries.dirChanged(parent, undefined);
    throw e;
  }
  s.entries.added(parent, name, done.attr, done.parentAttr);
  // Asked under a grant that vouches for attributes: the answer is exact (exact-attrs.ts).
  if (grant !== undefined) s.entries.exact.made(parent, grant, name, done.attr);
  // This mount changes the directory: it may take it and answer the next changes itself.
  s.delegated?.want(parent);
  return done;
}

export async function link(s: VfsState, ino: number, newParent: number, newName: string, ctx: OpContext): Promise<Attr> {
  const { attr } = await adding(s, newParent, newName, async () => {
    const linked = await s.meta.link(ino, newParent, newName, { caller: callerOf(ctx) }).catch(staleIfGone);
    return { attr: linked.attr, parentAttr: linked.newParentAttr };
  });
  return shown(s, attr);
}

export async function readlink(s: VfsState, ino: number): Promise<string> {
  return s.meta.readlink(ino).catch(staleIfGone);
}

/**
 * Answers a change in `parent` here when this mount may (`here`); when the directory is being
 * asked for, waits for that answer first, which comes no later than the master's would.
 */
async function answeredHere(s: VfsState, parent: number, here: () => boolean): Promise<boolean> {
  if (here()) return true;
  const asked = s.delegated?.asked(parent);
  if (!asked) return false;
  await asked;
  return here();
}

export async function unlink(s: VfsState, parent: number, name: string, ctx: OpContext): Promise<void> {
  s.delegated?.removing();
  if (await answeredHere(s, parent, () => unlinkHere(s, parent, name, ctx))) return;
  let victim = s.entries.knownIno(parent, name);
  let dirAttr: Attr | undefined;
  try {
    const keepIno = await s.orphans.keepCandidate(parent, name);
    // An open file's inode is known even when its name was not cached: its nlink changes too.
    if (keepIno !== 0) victim = keepIno;
    const res = await s.meta.unlink(parent, name, { caller: callerOf(ctx), keepIno });
    dirAttr = res.parentAttr;
    if (res.nlink === 0 && keepIno !== 0) s.orphans.kept(keepIno);
    s.delegated?.want(parent);
  } finally {
    // nlink and ctime moved; after a failure nothing is known of the directory.
    if (victim !== undefined) s.entries.forgetAttr(victim);
    s.entries.removed(parent, name, dirAttr);
  }
}

export async function rmdir(s: VfsState, parent: number, name: string, ctx: OpContext): Promise<void> {
  s.delegated?.removing();
  if (await answeredHere(s, parent, () => rmdirHere(s, parent, name, ctx))) return;
  const victim = s.entries.knownIno(parent, name);
  let dirAttr: Attr | undefined;
  try {
    dirAttr = (await s.meta.rmdir(parent, name, { caller: callerOf(ctx) })).parentAttr;
    s.delegated?.want(parent);
    askSubdirs(s, parent);
  } finally {
    if (victim !== undefined) {
      s.entries.forgetAttr(victim);
      s.entries.listings.forget(victim);
    }
    s.entries.removed(parent, name, dirAttr);
  }
}

/** Most subdirectories asked for at once by askSubdirs. */
const SUBDIRS_WANTED = 2048;

/**
 * Asks for the subdirectories of `parent` whose listings this mount knows, when names are being
 * removed: after an rmdir in it (`rm -r`, a cleanup: removing one here needs it held as well as
 * its parent, only then is "empty" sure), or once it is granted during a `rm -r` (its
 * subdirectories are emptied next: held by the time `rm` reaches them, their removals are answered
 * here from the first one on).
 */
export function askSubdirs(s: VfsState, parent: number): void {
  const listing = s.delegated && s.entries.listings.delegated(parent);
  if (!listing) return;
  let n = 0;
  for (const ino of listing.names.values()) {
    if (s.entries.lastAttr(ino)?.type !== fst.FileType.DIRECTORY || s.entries.listings.seqOf(ino) === undefined) continue;
    s.delegated!.want(ino);
    if (++n >= SUBDIRS_WANTED) break;
  }
}

/**
 * rename(2) and renameat2 with RENAME_NOREPLACE (RENAME_EXCHANGE is not supported: EINVAL).
 * Resolves with whether the new name named something that was replaced.
 */
export async function rename(s: VfsState, parent: number, name: string, newParent: number, newName: string, flags: number, ctx: OpContext): Promise<boolean> {
  if ((flags & ~RENAME_NOREPLACE) !== 0) throw new FsError('EINVAL', `rename flags ${flags} are not supported`);
  // In a delegated directory the listing is exact: it knows whether the name was taken.
  const taken = s.entries.knownIno(newParent, newName) !== undefined;
  if (renameHere(s, parent, name, newParent, newName, flags, ctx)) return taken;
  const moved = s.entries.knownIno(parent, name);
  let replaced = s.entries.knownIno(newParent, newName);
  let dirAttr: Attr | undefined;
  let newDirAttr: Attr | undefined;
  let wasReplaced = false;
  try {
    const keepIno = (flags & RENAME_NOREPLACE) !== 0 ? 0 : await s.orphans.keepCandidate(newParent, newName);
    if (keepIno !== 0) replaced = keepIno;
    const res = await s.meta.rename(parent, name, newParent, newName, (flags & RENAME_NOREPLACE) !== 0, { caller: callerOf(ctx), keepIno });
    dirAttr = res.parentAttr;
    newDirAttr = res.newParentAttr;
    wasReplaced = res.replaced;
    s.delegated?.want(parent);
    if (newParent !== parent) s.delegated?.want(newParent);
    // The master keeps it only if this was its last link; releasing one it freed is harmless.
    if (keepIno !== 0 && keepIno !== moved) s.orphans.kept(keepIno);
  } finally {
    // ctime of the moved inode, nlink of a replaced one moved.
    if (moved !== undefined) s.entries.forgetAttr(moved);
    if (replaced !== undefined) s.entries.forgetAttr(replaced);
    s.entries.renamed(parent, name, newParent, newName, dirAttr, newDirAttr);
  }
  return wasReplaced;
}
