/** getattr, setattr (chmod, chown, truncate, utimens), statfs, access. */
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { AttrChanges, StatfsResult } from '../meta-client.js';
import type { Attr, Timespec } from '../types.js';
import { callerOf, type OpContext, type Timed } from './op-context.js';
import { exactHere, setattrHere } from './ops-delegated.js';
import type { VfsState } from './vfs-state.js';

/** A time as utimens hands it over: exact, the master's now (UTIME_NOW), or unchanged (UTIME_OMIT). */
export type TimeArg = Timespec | 'now' | 'omit';

/** What setattr changes; absent fields stay (ctime moves by itself). */
export type SetattrChanges = Omit<AttrChanges, 'ctime'>;

/** The attributes to show for an inode: an open file's pending size and mtime win. */
export function shown(s: VfsState, attr: Attr): Attr {
  return s.files.get(attr.ino)?.view(attr) ?? attr;
}

/**
 * An inode the master no longer has: ESTALE, so that the kernel looks its name up again (a path
 * operation that raced a rename or removal is retried on what the name names now).
 */
export function staleIfGone(e: unknown): never {
  const err = toFsError(e);
  if (err.code === 'ENOENT') throw new FsError('ESTALE', err.message, { cause: err });
  throw err;
}

/** stat by inode (`fh`: fstat of an open descriptor). */
export async function getattr(s: VfsState, ino: number, fh?: number): Promise<Timed<Attr>> {
  const file = fh === undefined ? s.files.get(ino) : s.handles.get(fh).file;
  // Known exactly in a directory held here (nobody else changes it meanwhile): no need to ask.
  const exact = exactHere(s, ino);
  const cached = exact ? { value: exact.attr, ttlSec: s.entries.ttlSec } : await s.entries.getattr(ino).catch(staleIfGone);
  return { value: file ? file.view(cached.value) : cached.value, ttlSec: cached.ttlSec };
}

/** chmod, chown, truncate/ftruncate (`fh`), utimensat. */
export async function setattr(s: VfsState, ino: number, c: SetattrChanges, fh: number | undefined, ctx: OpContext): Promise<Attr> {
  if (c.size !== undefined && (!Number.isSafeInteger(c.size) || c.size < 0)) throw new FsError('EINVAL', `invalid size ${c.size}`);
  const handle = fh === undefined ? undefined : s.handles.get(fh);
  if (handle && c.size !== undefined && !handle.access.writable) throw new FsError('EBADF', 'not open for writing');
  const open = handle?.file ?? s.files.get(ino);
  // Pending data would commit after this change and overwrite an explicit mtime or a new size:
  // send it first.
  if (open?.hasWriter && (c.mtime !== undefined || c.size !== undefined)) await open.flush();
  const here = setattrHere(s, ino, c, ctx);
  if (here) return shown(s, here);
  const grant = s.entries.exact.grantOf(ino);
  // ftruncate through a descriptor open for writing needs no write permission now (Linux).
  const changes = handle && c.size !== undefined ? { ...c, writeHandle: true } : c;
  const updated = await s.meta.setAttr(ino, changes, { caller: callerOf(ctx) }).catch(staleIfGone);
  if (grant !== undefined) s.entries.exact.learned(updated, grant);
  else wantExactAttrs(s, ino);
  if (c.size !== undefined) open?.truncated(updated);
  else if (open) open.attr = updated;
  s.entries.update(updated);
  return shown(s, updated);
}

/**
 * An attribute change of `ino` went to the master: after a few in one directory, that directory is
 * asked for, with its files' attributes, so that the next ones are answered here (ops-delegated.ts).
 */
function wantExactAttrs(s: VfsState, ino: number): void {
  const dir = s.delegated ? s.entries.parentOf(ino) : undefined;
  if (dir === undefined || !s.entries.exact.sentToMaster(dir)) return;
  // Held already (for changes of its names): its files' attributes are read under that grant.
  if (s.delegated!.isHeld(dir)) s.entries.readExact(dir).catch((err: unknown) => s.log.debug('reading attributes in a delegated directory failed', { dir, err }));
  else s.delegated!.want(dir);
}

export function statfs(s: VfsState): Promise<StatfsResult> {
  return s.meta.statfs();
}

/** access(2): existence here; permission bits are the kernel's to check (default_permissions). */
export async function access(s: VfsState, ino: number): Promise<void> {
  await s.entries.getattr(ino).catch(staleIfGone);
}
