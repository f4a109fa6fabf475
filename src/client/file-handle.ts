/**
 * FileHandle: an open regular file. Writes are buffered by a FileWriter (write-back) and reach the
 * chunkservers on a threshold, fsync and close; reads go through a FileReader (read-ahead) and see
 * the handle's own pending writes laid over them. A flush error is thrown by the next write, fsync
 * or close, and by every one after it.
 */
import { FsError } from '../common/errors/errno.js';
import type { Logger } from '../common/log/logger.js';
import type { ChunkClient } from './chunk-client.js';
import { toFileStat, type FileStat } from './file-stat.js';
import type { MetaClient } from './meta-client.js';
import { FileReader, type ReadOptions } from './read/file-reader.js';
import type { Attr } from './types.js';
import { FileWriter, overlayPending, type WritebackOptions } from './writeback/file-writer.js';
import { baseOf } from './writeback/inline-writer.js';
import type { UnsyncedChunks } from './writeback/unsynced-chunks.js';

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

/** What a handle may do, resolved from OpenFlags. */
export interface AccessMode {
  readable: boolean;
  writable: boolean;
  append: boolean;
}

export function accessMode(flags: OpenFlags): AccessMode {
  const writable = flags.write ?? (flags.append === true || flags.truncate === true);
  return { readable: flags.read ?? !writable, writable, append: flags.append === true };
}

export interface HandleDeps {
  meta: MetaClient;
  chunks: ChunkClient;
  log: Logger;
  /** The client's record of chunks written without sync (fsync makes them durable). */
  unsynced: UnsyncedChunks;
  writeback?: WritebackOptions;
  read?: ReadOptions;
  /** Called once when the handle closes (the client's table of open handles). */
  onClose?: (h: FileHandle) => void;
}


function checkRange(position: number, length: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw new FsError('EINVAL', `invalid file position ${position}`);
  if (!Number.isSafeInteger(position + length) || length < 0) throw new FsError('EFBIG', `range [${position}, +${length}) is too large`);
}

export class FileHandle {
  readonly ino: number;
  private closed = false;
  /** Size as the master last reported it (open, commit, truncate, stat). */
  private size: number;
  private readonly writer: FileWriter | undefined;
  private readonly reader: FileReader;

  constructor(readonly path: string, attr: Attr, readonly access: AccessMode, private readonly deps: HandleDeps) {
    this.ino = attr.ino;
    this.size = attr.size;
    this.reader = new FileReader(deps.meta, deps.chunks, attr.ino, deps.read);
    if (access.writable) {
      const { meta, chunks, unsynced } = deps;
      // An empty file holds nothing to keep under new writes; anything else is read when written.
      this.writer = new FileWriter({ meta, chunks, unsynced, log: deps.log.child({ ino: attr.ino }) }, attr.ino, deps.writeback ?? {},
        (a) => this.committed(a), attr.size === 0 ? baseOf(attr, undefined) : undefined);
    }
  }

  /** The file size as this handle sees it: the master's plus its own pending writes. */
  get currentSize(): number {
    return Math.max(this.size, this.writer?.pendingEnd ?? 0);
  }

  /** Bytes buffered or being flushed. */
  get pendingBytes(): number {
    return this.writer?.pendingBytes ?? 0;
  }

  /** pread(2): up to `length` bytes at `position`; shorter at end of file, empty past it. */
  async read(position: number, length: number): Promise<Buffer> {
    this.check('read');
    if (!this.access.readable) throw new FsError('EBADF', `${this.path}: not open for reading`);
    checkRange(position, length);
    const pending = this.writer?.snapshot();
    return overlayPending(pending, await this.reader.read(position, length), position, length);
  }

  /** pwrite(2): buffers `data` at `position` (at the end with O_APPEND). The data is copied. */
  async write(position: number, data: Uint8Array): Promise<number> {
    const writer = this.writable('write');
    const at = this.access.append ? this.currentSize : position;
    checkRange(at, data.length);
    if (data.length === 0) return 0;
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await writer.write(at, buf);
    return data.length;
  }

  /**
   * Writes `data` at the end of the file as this handle knows it. Appends through one handle are
   * ordered; appends from other clients are not serialized with them (the protocol has no atomic
   * append).
   */
  append(data: Uint8Array): Promise<number> {
    try {
      const at = this.currentSize;
      const writer = this.writable('append');
      checkRange(at, data.length);
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return writer.write(at, buf).then(() => data.length);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** ftruncate(2): flushes pending writes, then sets the size (shrinking drops data, growing leaves a hole). */
  async truncate(size: number): Promise<void> {
    const writer = this.writable('truncate');
    checkRange(size, 0);
    await writer.flush();
    const attr = await this.deps.meta.setAttr(this.ino, { size });
    // The master moved the chunks to new versions and cut them: nothing cached is valid any more.
    writer.forgetAllocations();
    writer.truncated(attr);
    this.reader.invalidate();
    this.size = attr.size;
  }

  /** fsync(2): returns once every write made so far is durable and committed. */
  async fsync(): Promise<void> {
    this.check('fsync');
    if (this.writer) await this.writer.flush(true);
    // Read-only: what other handles of this client wrote to the file and did not sync.
    else await this.deps.unsynced.sync(this.ino);
  }

  /** fstat(2), with the size including this handle's pending writes. */
  async stat(): Promise<FileStat> {
    this.check('stat');
    const attr = await this.deps.meta.getAttr(this.ino);
    this.size = attr.size;
    return toFileStat({ ...attr, size: this.currentSize });
  }

  /** close(2): flushes, then releases the handle even when the flush fails (and throws its error). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer?.flush();
    } finally {
      this.reader.invalidate();
      this.deps.onClose?.(this);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private committed(attr: Attr): void {
    this.size = attr.size;
    // Blocks fetched before the data landed may hold the old bytes.
    this.reader.invalidate();
  }

  private check(op: string): void {
    if (this.closed) throw new FsError('EBADF', `${op} ${this.path}: the handle is closed`);
  }

  private writable(op: string): FileWriter {
    this.check(op);
    if (!this.writer) throw new FsError('EBADF', `${op} ${this.path}: not open for writing`);
    return this.writer;
  }
}
