/** getattr, fgetattr, chmod, chown, utimens, truncate, ftruncate, access, statfs. */
import { FsError } from '../../common/errors/errno.js';
import type { AttrChanges, StatfsResult } from '../meta-client.js';
import { fst, type Attr, type Timespec } from '../types.js';
import { callerOf, type OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';

/** A time as utimens hands it over: exact, the master's now (UTIME_NOW), or unchanged (UTIME_OMIT). */
export type TimeArg = Timespec | 'now' | 'omit';

const NO_ID = 0xffffffff; // chown's "leave unchanged" (-1 as an unsigned 32-bit id)

/** The attributes to show for an inode: an open file's pending size and mtime win. */
function shown(s: VfsState, attr: Attr): Attr {
  return s.files.get(attr.ino)?.view(attr) ?? attr;
}

export async function getattr(s: VfsState, path: string): Promise<Attr> {
  return shown(s, await s.entries.resolve(path));
}

export async function fgetattr(s: VfsState, fh: number): Promise<Attr> {
  const { file } = s.handles.get(fh);
  // The inode's attributes while the entry cache trusts them (open, create, link... keep them
  // current); otherwise ask the master.
  let base = s.entries.cachedAttr(file.ino);
  if (!base) {
    base = await s.meta.getAttr(file.ino);
    s.entries.update(base);
  }
  return file.view(base);
}

async function change(s: VfsState, path: string, changes: AttrChanges, ctx: OpContext): Promise<void> {
  const attr = await s.entries.resolve(path);
  const open = s.files.get(attr.ino);
  // Pending data would commit after this change and overwrite an explicit mtime: send it first.
  if (open?.hasWriter && (changes.mtime !== undefined || changes.size !== undefined)) await open.flush();
  const updated = await s.meta.setAttr(attr.ino, changes, { caller: callerOf(ctx) });
  if (changes.size !== undefined) open?.truncated(updated);
  else if (open) open.attr = updated;
  s.entries.set(path, updated);
}

export function chmod(s: VfsState, path: string, mode: number, ctx: OpContext): Promise<void> {
  return change(s, path, { mode: mode & 0o7777 }, ctx);
}

export function chown(s: VfsState, path: string, uid: number, gid: number, ctx: OpContext): Promise<void> {
  const changes: AttrChanges = {};
  if (uid !== NO_ID && uid !== -1) changes.uid = uid;
  if (gid !== NO_ID && gid !== -1) changes.gid = gid;
  return change(s, path, changes, ctx);
}

export function utimens(s: VfsState, path: string, atime: TimeArg, mtime: TimeArg, ctx: OpContext): Promise<void> {
  const changes: AttrChanges = {};
  if (atime !== 'omit') changes.atime = atime;
  if (mtime !== 'omit') changes.mtime = mtime;
  return change(s, path, changes, ctx);
}

export function truncate(s: VfsState, path: string, size: number, ctx: OpContext): Promise<void> {
  if (!Number.isSafeInteger(size) || size < 0) return Promise.reject(new FsError('EINVAL', `invalid size ${size}`));
  return change(s, path, { size }, ctx);
}

export async function ftruncate(s: VfsState, fh: number, size: number, ctx: OpContext): Promise<void> {
  const h = s.handles.get(fh);
  if (!h.access.writable) throw new FsError('EBADF', 'not open for writing');
  if (!Number.isSafeInteger(size) || size < 0) throw new FsError('EINVAL', `invalid size ${size}`);
  await h.file.flush();
  const updated = await s.meta.setAttr(h.file.ino, { size }, { caller: callerOf(ctx) });
  h.file.truncated(updated);
}

/** access(2): existence here; the kernel checks permission bits itself (default_permissions). */
export async function access(s: VfsState, path: string): Promise<void> {
  await s.entries.resolve(path);
}

export interface StatfsView {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  namemax: number;
}

const BLOCK = 4096;

export async function statfs(s: VfsState): Promise<StatfsView> {
  const st: StatfsResult = await s.meta.statfs();
  const free = Math.floor(st.freeBytes / BLOCK);
  // Inodes are not a limited resource in FST: report plenty free, as network filesystems do.
  const ffree = 1_000_000_000;
  return { bsize: BLOCK, frsize: BLOCK, blocks: Math.floor(st.totalBytes / BLOCK), bfree: free, bavail: free, files: st.files + ffree, ffree, favail: ffree, namemax: 255 };
}

export function isDirectory(attr: Attr): boolean {
  return attr.type === fst.FileType.DIRECTORY;
}
