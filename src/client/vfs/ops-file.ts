/**
 * open, create, read, write, flush, fsync, release. Every close reaches `flush`, the last place an
 * error can reach the application (the kernel ignores release's result), so dirty data is sent and
 * committed there; release only drops the descriptor.
 */
import { constants } from 'node:fs';
import { FsError } from '../../common/errors/errno.js';
import { FileReader } from '../read/file-reader.js';
import { overlayPending } from '../writeback/file-writer.js';
import { fst, type Attr } from '../types.js';
import type { AccessMode, Handle } from './handles.js';
import { newer, sameData } from './open-files.js';
import { staleIfGone } from './ops-attr.js';
import { adding } from './ops-names.js';
import { callerOf, type OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';

function accessOf(flags: number): AccessMode {
  const acc = flags & 3; // O_ACCMODE
  return {
    readable: acc === constants.O_RDONLY || acc === constants.O_RDWR,
    writable: acc === constants.O_WRONLY || acc === constants.O_RDWR,
    append: (flags & constants.O_APPEND) !== 0,
  };
}

/**
 * A descriptor of the file `attr` describes. `inline`: what the master said of its content with
 * these attributes (its inline bytes, or none), when it said anything.
 */
function openHandle(s: VfsState, attr: Attr, access: AccessMode, content?: { inline: Buffer | undefined }): Handle {
  if (attr.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', 'is a directory');
  if (attr.type !== fst.FileType.REGULAR) throw new FsError('EINVAL', 'not a regular file');
  const file = s.files.acquire(attr);
  // Only if these attributes are the file's latest: a commit of this mount may be newer.
  if (content && !file.hasWriter && sameData(file.attr, attr)) file.known(attr, content.inline);
  const reader = new FileReader(s.meta, s.chunks, attr.ino, s.read, {
    blocks: s.blocks,
    keyPrefix: () => file.cacheKey(),
    locate: (offset, length) => file.locate(offset, length),
    forgetLocations: () => file.forgetLocations(),
  });
  return s.handles.add({ file, access, reader, readerGeneration: file.generation });
}

/** An open descriptor, and how the kernel may cache its pages. */
export interface Opened {
  fh: number;
  /** The kernel may keep the pages it cached of this file from before (it did not change). */
  keepCache: boolean;
}

/**
 * open(2). The attributes come fresh from the master (close-to-open consistency); if they differ
 * from what this mount last knew, the kernel's copy is dropped too (its size would cut reads
 * short). The kernel keeps the file's cached pages only if its data has not changed since
 * (kernel-pages.ts).
 */
export async function open(s: VfsState, ino: number, flags: number): Promise<Opened> {
  try {
    return await s.files.whileOpening(ino, async () => {
      // A small file's bytes come with its attributes: reading it needs no other call.
      const { attr: fresh, inline } = await s.meta.getAttrWithData(ino).catch(staleIfGone);
      const known = s.entries.cachedAttr(ino)?.value;
      if (!known || !sameData(known, fresh)) s.kernel?.invalidateAttr(ino);
      // A commit through this mount may have landed after `fresh` was read (a descriptor closing
      // while this one opens): take the newest, or an O_APPEND write would start at an old end.
      const attr = known ? newer(fresh, known) : fresh;
      s.entries.update(attr);
      const elsewhere = s.files.get(ino);
      const keepCache = s.pages.opening(attr, elsewhere && { attr: elsewhere.attr, writing: elsewhere.hasWriter });
      return { fh: openHandle(s, attr, accessOf(flags), attr === fresh ? { inline } : undefined).fh, keepCache };
    });
  } catch (e) {
    // A removal kept the inode for this open, which failed: let it go.
    if (!s.files.isOpen(ino)) await s.orphans.closed(ino);
    throw e;
  }
}

/** create(2) / open(O_CREAT) of a name the kernel found missing. */
export async function create(s: VfsState, parent: number, name: string, mode: number, flags: number, ctx: OpContext): Promise<{ attr: Attr } & Opened> {
  const exclusive = (flags & constants.O_EXCL) !== 0;
  const { attr, created } = await adding(s, parent, name, () => s.meta.mknod(parent, name, mode & 0o7777, { exclusive }, { caller: callerOf(ctx) }));
  if (created) s.entries.noteNoXattrs(attr.ino);
  // A new file is empty; an existing one (O_CREAT without O_EXCL) is read when written.
  const h = openHandle(s, attr, { ...accessOf(flags), writable: true }, created ? { inline: undefined } : undefined);
  return { attr: h.file.view(attr), fh: h.fh, keepCache: false };
}

/** pread(2). With `view`, the answer may be a view of a cached block, which the caller must not modify. */
export async function read(s: VfsState, fh: number, position: number, length: number, view = true): Promise<Buffer> {
  const h = s.handles.get(fh);
  if (!h.access.readable) throw new FsError('EBADF', 'not open for reading');
  if (h.readerGeneration !== h.file.generation) {
    h.reader.invalidate();
    h.readerGeneration = h.file.generation;
  }
  const pending = h.file.hasWriter ? h.file.writer().snapshot() : undefined;
  // Without pending writes nothing is laid over the data, so a view of the cached block will do.
  const noPending = !pending || pending.end === 0;
  return overlayPending(pending, await h.reader.read(position, length, view && noPending), position, length);
}

/** What descriptor `fh` sees of its file now: the size with pending writes, and the bytes not yet committed. */
export function openState(s: VfsState, fh: number): { ino: number; size: number; pendingBytes: number; attr: Attr } {
  const f = s.handles.get(fh).file;
  return { ino: f.ino, size: f.size, pendingBytes: f.hasWriter ? f.writer().pendingBytes : 0, attr: f.view() };
}

/** write(2): buffered. `data` is the process's own copy (the binding copied it out of FUSE). */
export async function write(s: VfsState, fh: number, data: Buffer, position: number): Promise<number> {
  const h = s.handles.get(fh);
  if (!h.access.writable) throw new FsError('EBADF', 'not open for writing');
  const at = h.access.append ? h.file.size : position;
  if (!Number.isSafeInteger(at + data.length)) throw new FsError('EFBIG', 'write past the largest file size');
  h.file.pendingMtimeMs = Date.now();
  await h.file.writer().write(at, data);
  return data.length;
}

/** flush: every close(2) of a descriptor; its error is what close returns. */
export async function flush(s: VfsState, fh: number): Promise<void> {
  await s.handles.get(fh).file.flush();
}

/** fsync(2): returns once every write so far is on every replica, durable, and committed. */
export async function fsync(s: VfsState, fh: number): Promise<void> {
  await s.handles.get(fh).file.fsync();
}

/** release: the last close of a descriptor. Data was flushed by `flush`; this only lets go. */
export async function release(s: VfsState, fh: number): Promise<void> {
  const h = s.handles.remove(fh);
  if (!h) return;
  h.reader.invalidate();
  try {
    if (h.file.handles === 1) await h.file.flush();
  } catch (e) {
    s.log.warn('flush at release failed', { ino: h.file.ino, err: e });
  } finally {
    s.files.release(h.file);
    if (!s.files.isOpen(h.file.ino)) await s.orphans.closed(h.file.ino);
  }
}
