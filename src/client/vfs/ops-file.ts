/**
 * create, open, read, write, flush, fsync, release. Every close reaches `flush`, the last place an
 * error can reach the application (the kernel ignores release's result), so dirty data is sent and
 * committed there; release only drops the descriptor.
 */
import { constants } from 'node:fs';
import { FsError } from '../../common/errors/errno.js';
import type { AccessMode } from '../file-handle.js';
import { FileReader } from '../read/file-reader.js';
import { overlayPending } from '../writeback/file-writer.js';
import { fst, type Attr } from '../types.js';
import type { Handle } from './handles.js';
import { newer } from './open-files.js';
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

function openHandle(s: VfsState, attr: Attr, access: AccessMode): Handle {
  if (attr.type === fst.FileType.DIRECTORY) throw new FsError('EISDIR', 'is a directory');
  if (attr.type !== fst.FileType.REGULAR) throw new FsError('EINVAL', 'not a regular file');
  // A commit through this mount may have landed after `attr` was fetched (a descriptor closing
  // while this one opens): take the newest, or an O_APPEND write would start at an old end.
  const cached = s.entries.cachedAttr(attr.ino);
  const file = s.files.acquire(cached ? newer(attr, cached) : attr);
  const reader = new FileReader(s.meta, s.chunks, attr.ino, s.read, {
    blocks: s.blocks,
    keyPrefix: () => file.cacheKey(),
    locate: (offset, length) => file.locate(offset, length),
    forgetLocations: () => file.forgetLocations(),
  });
  return s.handles.add({ file, access, reader, readerGeneration: file.generation });
}

/** An open descriptor, and whether the kernel must not cache its pages. */
export interface Opened {
  fh: number;
  /**
   * libfuse2 gives each name of a hard-linked file its own kernel inode and page cache, so data
   * written through one name would not show through a descriptor opened by another: such files are
   * opened with direct I/O (every read comes to fst-mount, which has one view per inode).
   */
  directIo: boolean;
}

/** open(2). The attributes come fresh from the master: close-to-open consistency. */
export async function open(s: VfsState, path: string, flags: number): Promise<Opened> {
  const attr = await s.entries.resolve(path, true);
  return { fh: openHandle(s, attr, accessOf(flags)).fh, directIo: attr.nlink > 1 };
}

/** create(2) / open(O_CREAT): the kernel already checked O_EXCL against its lookup. */
export async function create(s: VfsState, path: string, mode: number, flags: number, ctx: OpContext): Promise<Opened> {
  const { dir, name, dirPath } = await s.entries.parentOf(path);
  const exclusive = (flags & constants.O_EXCL) !== 0;
  const { attr, created, parentAttr } = await s.meta.mknod(dir.ino, name, mode & 0o7777, { exclusive }, { caller: callerOf(ctx) });
  s.entries.added(dirPath, path, attr, parentAttr);
  if (created) s.entries.noteNoXattrs(attr.ino);
  const access = flags === 0 ? { readable: true, writable: true, append: false } : accessOf(flags);
  return { fh: openHandle(s, attr, { ...access, writable: true }).fh, directIo: attr.nlink > 1 };
}

export async function read(s: VfsState, fh: number, position: number, length: number): Promise<Buffer> {
  const h = s.handles.get(fh);
  if (!h.access.readable) throw new FsError('EBADF', 'not open for reading');
  if (h.readerGeneration !== h.file.generation) {
    h.reader.invalidate();
    h.readerGeneration = h.file.generation;
  }
  const pending = h.file.hasWriter ? h.file.writer().snapshot() : undefined;
  // Without pending writes nothing is laid over the data, so a view of the cached block will do.
  const noPending = !pending || pending.end === 0;
  return overlayPending(pending, await h.reader.read(position, length, noPending), position, length);
}

/** write(2): buffered (the bytes are copied: `data` is a view of FUSE's memory). */
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

/** fsync(2): returns once every write so far is on every replica and committed. */
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
  }
}
