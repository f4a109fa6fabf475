/**
 * FileHandle: an open regular file of the path API, a thin wrapper over one descriptor (fh) of the
 * client's Vfs. Writes go to the file's one writer in the Vfs (one per open inode, shared with every
 * other handle of this client on the file, under the client's write-back memory budget) and reach
 * the chunkservers on a threshold, fsync and close; reads go through the descriptor's FileReader
 * (sequential read-ahead, the shared block cache) and see the file's pending writes laid over
 * them. A flush error is thrown by the next write, fsync or close, and by every one after it.
 */
import { constants } from 'node:fs';
import { FsError } from '../common/errors/errno.js';
import { toFileStat, type FileStat } from './file-stat.js';
import type { AccessMode } from './vfs/handles.js';
import type { OpContext } from './vfs/op-context.js';
import type { Vfs } from './vfs/vfs.js';

export type { AccessMode } from './vfs/handles.js';

export interface OpenFlags {
  /** Allow reads. @default true unless the handle is opened for writing */
  read?: boolean;
  /** Allow writes. @default true when append or truncate is set */
  write?: boolean;
  /** O_CREAT: create the file if it does not exist. */
  create?: boolean;
  /** O_EXCL: with create, fail with EEXIST if it exists. */
  exclusive?: boolean;
  /** O_TRUNC: cut the file to 0 bytes. */
  truncate?: boolean;
  /** O_APPEND: every write goes to the end of the file, whatever its position. */
  append?: boolean;
}

export function accessMode(flags: OpenFlags): AccessMode {
  const writable = flags.write ?? (flags.append === true || flags.truncate === true);
  return { readable: flags.read ?? !writable, writable, append: flags.append === true };
}

/** open(2)'s flags for `flags` (O_ACCMODE from the access they resolve to). */
export function posixFlags(flags: OpenFlags): number {
  const a = accessMode(flags);
  let n = a.readable && a.writable ? constants.O_RDWR : a.writable ? constants.O_WRONLY : constants.O_RDONLY;
  if (a.append) n |= constants.O_APPEND;
  if (flags.create) n |= constants.O_CREAT;
  if (flags.create && flags.exclusive) n |= constants.O_EXCL;
  if (flags.truncate && a.writable) n |= constants.O_TRUNC;
  return n;
}

export interface HandleDeps {
  vfs: Vfs;
  /** Who calls (ftruncate checks it). */
  ctx: OpContext;
  /** Called once when the handle closes (the client's table of open handles). */
  onClose?: (h: FileHandle) => void;
}

function checkRange(position: number, length: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new FsError('EINVAL', `invalid file position ${position}`);
  if (!Number.isSafeInteger(position + length) || length < 0) throw new FsError('EFBIG', `range [${position}, +${length}) is too large`);
}

function bufferOf(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export class FileHandle {
  private closed = false;
  /** The size last seen, for currentSize once closed. */
  private lastSize: number;
  private lastStat: FileStat | undefined;

  constructor(readonly path: string, readonly ino: number, private readonly fh: number, readonly access: AccessMode, private readonly deps: HandleDeps, size: number) {
    this.lastSize = size;
  }

  /** The file size as this client sees it: the master's plus the pending writes of its handles. */
  get currentSize(): number {
    if (!this.closed) this.lastSize = this.deps.vfs.openState(this.fh).size;
    return this.lastSize;
  }

  /** Bytes of the file buffered or being flushed (by any handle of this client on it). */
  get pendingBytes(): number {
    return this.closed ? 0 : this.deps.vfs.openState(this.fh).pendingBytes;
  }

  /** pread(2): up to `length` bytes at `position`; shorter at end of file, empty past it. */
  async read(position: number, length: number): Promise<Buffer> {
    this.check('read');
    if (!this.access.readable) throw new FsError('EBADF', `${this.path}: not open for reading`);
    checkRange(position, length);
    // A copy of its own: the caller may keep or change it.
    return this.deps.vfs.read(this.fh, position, length, false);
  }

  /** pwrite(2): buffers `data` at `position` (at the end with O_APPEND). The data is copied. */
  async write(position: number, data: Uint8Array): Promise<number> {
    this.writable('write');
    checkRange(this.access.append ? this.currentSize : position, data.length);
    if (data.length === 0) return 0;
    return this.deps.vfs.write(this.fh, bufferOf(data), position);
  }

  /**
   * Writes `data` at the end of the file as this client knows it. Appends through one client are
   * ordered; appends from other clients are not serialized with them (the protocol has no atomic
   * append).
   */
  append(data: Uint8Array): Promise<number> {
    try {
      this.writable('append');
      const at = this.currentSize;
      checkRange(at, data.length);
      if (data.length === 0) return Promise.resolve(0);
      return this.deps.vfs.write(this.fh, bufferOf(data), at);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** ftruncate(2): flushes pending writes, then sets the size (shrinking drops data, growing leaves a hole). */
  async truncate(size: number): Promise<void> {
    this.writable('truncate');
    checkRange(size, 0);
    const attr = await this.deps.vfs.setattr(this.ino, { size }, this.fh, this.deps.ctx);
    this.lastSize = attr.size;
  }

  /** fsync(2): returns once every write to the file made so far through this client is durable and committed. */
  async fsync(): Promise<void> {
    this.check('fsync');
    await this.deps.vfs.fsync(this.fh);
  }

  /**
   * The attributes as this client knows them, without a call: the master's at open, then those its
   * commits answered, with pending writes laid over; after close, those of the last commit.
   */
  knownStat(): FileStat {
    if (!this.closed) this.lastStat = toFileStat(this.deps.vfs.openState(this.fh).attr);
    if (!this.lastStat) throw new FsError('EBADF', `${this.path}: closed without a commit`);
    return this.lastStat;
  }

  /** fstat(2), with the size including pending writes. */
  async stat(): Promise<FileStat> {
    this.check('stat');
    return toFileStat((await this.deps.vfs.getattr(this.ino, this.fh)).value);
  }

  /**
   * close(2): flushes the file's pending writes and commits them, then releases the descriptor even
   * when the flush fails (and throws its error).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.lastSize = this.currentSize;
    this.closed = true;
    try {
      await this.deps.vfs.flush(this.fh);
      this.lastStat = toFileStat(this.deps.vfs.openState(this.fh).attr);
    } finally {
      try {
        await this.deps.vfs.release(this.fh);
      } finally {
        this.deps.onClose?.(this);
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private check(op: string): void {
    if (this.closed) throw new FsError('EBADF', `${op} ${this.path}: the handle is closed`);
  }

  private writable(op: string): void {
    this.check(op);
    if (!this.access.writable) throw new FsError('EBADF', `${op} ${this.path}: not open for writing`);
  }
}
