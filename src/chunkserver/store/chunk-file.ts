/**
 * One chunk on disk: a data file (at most 64 MiB, sparse, never longer than the chunk's length)
 * and a meta file beside it (meta-file.ts: version, length, one CRC32C per 64 KiB block).
 *
 * Durability policy:
 * - WriteChunk: every message is written with pwrite and its blocks' checksums are updated in
 *   memory; before the stream is acknowledged, persistMeta() writes the meta record (a process
 *   crash then loses nothing: the kernel holds both files' pages), or, for a stream that asks for
 *   sync, sync() fdatasyncs the data file, then writes the meta record and fdatasyncs the meta file.
 *   A power loss before a sync may lose unsynced writes: an overwritten block then fails its
 *   checksum (EIO, never wrong data) and a torn extension is cut back to the recorded length when
 *   the chunk is next opened.
 * - SetChunkVersion: the new version (and length) is written to the meta file and fdatasync'ed
 *   before the call returns; a truncate also fdatasyncs the data file. Shrinking writes the meta
 *   first (bytes past the recorded length are ignored, then cut); growing extends the data first.
 * - A new chunk's files are created without fsync: the first sync() (a WriteChunk stream that asks
 *   for it, or a version change) makes the files and their directory entries durable. A machine
 *   that loses power before then may forget the chunk, and its next full report says so. The meta
 *   file is created before the data file, so a crash in between leaves a meta file alone (ignored
 *   by the scan), never unverified data.
 *
 * A ChunkFile is not safe for concurrent use: the store runs every call under the chunk's lock.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { crc32c } from '@node-rs/crc32';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { BLOCK_SIZE, MAX_BLOCKS, ZERO_BLOCK_CRC, blockCrc, blocksFor, checksumError } from './checksum.js';
import { ChunkCorruptError } from './corrupt.js';
import { ensureDir, fsyncDir, readAll, writeAll, type ChunkPaths } from './layout.js';
import { newMeta, readMeta, writeMeta, writeNewMeta, type ChunkMeta } from './meta-file.js';
import type { ChunkOwner } from './owner-record.js';

/** Bytes written to a chunk between background writebacks (startWriteback). */
const WRITEBACK_BYTES = 16 * 1024 * 1024;

/** The RPC layer validates ranges first; this guards the file against a caller that did not. */
function checkRange(offset: number, length: number): void {
  if (!(offset >= 0 && length >= 0 && offset + length <= MAX_BLOCKS * BLOCK_SIZE)) {
    throw new FsError('EINVAL', `range ${offset}+${length} is outside a 64 MiB chunk`);
  }
}

export class ChunkFile {
  private dataDirty = false;
  private metaDirty = false;
  /** The meta record was written without fsync. */
  private metaUnsynced = false;
  /**
   * The files or their directory entries may not be on disk yet: created since the last sync, or
   * opened (a chunk created, closed and reopened without a sync in between looks the same).
   */
  private creationPending = false;
  /** Bytes written since the last background writeback started (see startWriteback). */
  private sinceWriteback = 0;
  private writebackRunning = false;
  /** A background writeback failed: what the data's next sync() reports (its error is seen once). */
  private writebackError: FsError | undefined;

  private constructor(
    readonly paths: ChunkPaths,
    private readonly data: FileHandle,
    private readonly metaFh: FileHandle,
    private readonly meta: ChunkMeta,
  ) {}

  /**
   * Creates an empty chunk (replacing any files at `paths`), with the file it belongs to recorded
   * in its meta file when `owner` is given; durable at its first sync().
   */
  static async create(paths: ChunkPaths, chunkId: number, version: number, owner?: ChunkOwner): Promise<ChunkFile> {
    await ensureDir(paths.subdir);
    const meta = newMeta(chunkId, version);
    const metaFh = await open(paths.meta, 'w+');
    let data: FileHandle | undefined;
    try {
      await writeNewMeta(metaFh, meta, owner);
      data = await open(paths.data, 'w+');
      const file = new ChunkFile(paths, data, metaFh, meta);
      file.creationPending = true;
      return file;
    } catch (e) {
      await Promise.allSettled([metaFh.close(), data?.close()]);
      throw toFsError(e);
    }
  }

  /**
   * Opens an existing chunk. A missing file or an invalid meta file is ChunkCorruptError (EIO: the
   * copy is unusable); other failures (EMFILE, EACCES, a disk error) are thrown as they are.
   */
  static async open(paths: ChunkPaths, chunkId: number): Promise<ChunkFile> {
    let metaFh: FileHandle | undefined;
    let data: FileHandle | undefined;
    try {
      metaFh = await open(paths.meta, 'r+');
      const meta = await readMeta(metaFh, chunkId);
      data = await open(paths.data, 'r+');
      // Bytes past the recorded length come from a write or copy that never completed; later writes
      // assume the file holds nothing past the length, so cut them now.
      if ((await data.stat()).size > meta.length) await data.truncate(meta.length);
      const file = new ChunkFile(paths, data, metaFh, meta);
      // Unsynced writes may have been made before the chunk was last closed (or before this
      // process restarted): the first sync() fsyncs both files and their directory.
      file.dataDirty = file.metaUnsynced = file.creationPending = true;
      return file;
    } catch (e) {
      await Promise.allSettled([metaFh?.close(), data?.close()]);
      if ((e as { code?: unknown }).code === 'ENOENT') {
        throw new ChunkCorruptError(chunkId, 'missing', `chunk ${chunkId}: ${metaFh ? 'data' : 'meta'} file missing`, undefined, { cause: e });
      }
      throw toFsError(e);
    }
  }

  get chunkId(): number {
    return this.meta.chunkId;
  }
  get version(): number {
    return this.meta.version;
  }
  get length(): number {
    return this.meta.length;
  }

  /** The checksum of every block up to the length. */
  checksums(): Uint32Array {
    return this.meta.crcs.slice(0, blocksFor(this.meta.length));
  }

  /**
   * Reads [offset, offset+length): bytes past the chunk's length are zeros. Every block touched is
   * verified; the result is a view into a buffer of whole blocks (no copy).
   */
  async read(offset: number, length: number): Promise<Buffer> {
    checkRange(offset, length);
    if (length === 0) return Buffer.alloc(0);
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((offset + length - 1) / BLOCK_SIZE);
    const start = first * BLOCK_SIZE;
    const buf = Buffer.allocUnsafe((last - first + 1) * BLOCK_SIZE);
    const stored = Math.max(0, Math.min(this.meta.length, (last + 1) * BLOCK_SIZE) - start);
    const got = stored > 0 ? await readAll(this.data, buf.subarray(0, stored), start) : 0;
    buf.fill(0, got);
    for (let b = first; b <= last; b++) {
      const at = (b - first) * BLOCK_SIZE;
      const actual = b * BLOCK_SIZE >= this.meta.length ? ZERO_BLOCK_CRC : crc32c(buf.subarray(at, at + BLOCK_SIZE));
      const expected = this.meta.crcs[b] ?? ZERO_BLOCK_CRC;
      if (actual !== expected) throw checksumError(this.chunkId, b, expected, actual);
    }
    return buf.subarray(offset - start, offset - start + length);
  }

  /** The stored bytes of block `b` (zero-padded to 64 KiB), verified against its checksum. */
  private async readBlock(b: number): Promise<Buffer> {
    const blk = Buffer.alloc(BLOCK_SIZE);
    const stored = Math.min(BLOCK_SIZE, this.meta.length - b * BLOCK_SIZE);
    if (stored > 0) await readAll(this.data, blk.subarray(0, stored), b * BLOCK_SIZE);
    const actual = crc32c(blk);
    const expected = this.meta.crcs[b] ?? ZERO_BLOCK_CRC;
    if (actual !== expected) throw checksumError(this.chunkId, b, expected, actual);
    return blk;
  }

  /**
   * Writes `data` at `offset` (offset + length <= 64 MiB, checked by the caller). Blocks the write
   * covers only partly are read and verified first, so a corrupt block is never blessed with a new
   * checksum; the payload itself is written with one pwrite, without copying it.
   */
  async write(offset: number, data: Uint8Array): Promise<void> {
    checkRange(offset, data.length);
    if (data.length === 0) return;
    const end = offset + data.length;
    const oldLength = this.meta.length;
    const first = Math.floor(offset / BLOCK_SIZE);
    const last = Math.floor((end - 1) / BLOCK_SIZE);
    const crcs = new Map<number, number>();
    for (let b = first; b <= last; b++) {
      const bs = b * BLOCK_SIZE;
      const from = Math.max(offset, bs) - offset;
      const to = Math.min(end, bs + BLOCK_SIZE) - offset;
      if (to - from === BLOCK_SIZE) {
        crcs.set(b, crc32c(data.subarray(from, to)));
      } else if (oldLength <= bs) {
        // Nothing stored in this block yet: it is zeros apart from the new bytes.
        crcs.set(b, blockCrc(data.subarray(from, to), from + offset - bs));
      } else {
        const blk = await this.readBlock(b);
        blk.set(data.subarray(from, to), from + offset - bs);
        crcs.set(b, crc32c(blk));
      }
    }
    try {
      await writeAll(this.data, data, offset);
    } catch (e) {
      await this.recoverFailedWrite(first, last, oldLength);
      throw toFsError(e);
    }
    for (const [b, crc] of crcs) this.meta.crcs[b] = crc;
    this.meta.length = Math.max(oldLength, end);
    this.dataDirty = this.metaDirty = true;
    this.sinceWriteback += data.length;
    if (this.sinceWriteback >= WRITEBACK_BYTES) this.startWriteback();
  }

  /**
   * Starts an fdatasync of the data file in the background, not awaited and not under the chunk's
   * lock, once WRITEBACK_BYTES were written since the last one started. The kernel would otherwise
   * keep a big write's pages dirty (up to a tenth of RAM) until the client's fsync, which then
   * waits for all of them: a 1 GiB write's fsync took 1.3-1.8 s, and 0.3 s with this. A sync that
   * follows waits only for what is left. Linux reports a writeback error to one fdatasync only, so
   * a failure here is kept and thrown by the next sync() rather than lost.
   */
  private startWriteback(): void {
    if (this.writebackRunning) return;
    this.writebackRunning = true;
    this.sinceWriteback = 0;
    // FileHandle.close() waits for an operation in flight, so the descriptor outlives this call.
    this.data.datasync().then(
      () => undefined,
      (e: unknown) => {
        this.writebackError ??= toFsError(e);
      },
    ).finally(() => {
      this.writebackRunning = false;
    });
  }

  /**
   * After a failed pwrite (ENOSPC, EIO...) part of the payload may be on disk. Cut the file back to
   * its length and re-checksum the blocks the write touched, so the chunk stays consistent: the
   * range written holds old or new bytes, as after any failed write(2), and nothing else changed.
   */
  private async recoverFailedWrite(first: number, last: number, length: number): Promise<void> {
    try {
      await this.data.truncate(length);
      for (let b = first; b <= last && b * BLOCK_SIZE < length; b++) {
        const stored = Math.min(BLOCK_SIZE, length - b * BLOCK_SIZE);
        const buf = Buffer.alloc(stored);
        await readAll(this.data, buf, b * BLOCK_SIZE);
        this.meta.crcs[b] = blockCrc(buf);
        this.metaDirty = true;
      }
    } catch {
      // The disk refuses even this: the blocks keep their old checksums and will read as EIO.
    }
  }

  /** Cuts the chunk to `length` bytes, or extends it with zeros; durable on return. */
  async truncate(length: number): Promise<void> {
    checkRange(0, length);
    await this.sync();
    const old = this.meta.length;
    if (length === old) return;
    if (length > old) {
      // Zero extension leaves every checksum as it is (checksum.ts).
      await this.data.truncate(length);
      await this.data.datasync();
      this.meta.length = length;
      this.metaDirty = true;
      await this.sync();
      return;
    }
    const b = Math.floor(length / BLOCK_SIZE);
    if (length % BLOCK_SIZE !== 0) {
      const blk = await this.readBlock(b);
      blk.fill(0, length % BLOCK_SIZE);
      this.meta.crcs[b] = crc32c(blk);
    }
    this.meta.crcs.fill(ZERO_BLOCK_CRC, blocksFor(length), MAX_BLOCKS);
    this.meta.length = length;
    this.metaDirty = true;
    await this.sync();
    await this.data.truncate(length);
    await this.data.datasync();
  }

  /** Records a new version; durable on return (with any data written before). */
  async setVersion(version: number): Promise<void> {
    this.meta.version = version;
    this.metaDirty = true;
    await this.sync();
  }

  /** Writes a changed meta record, without fsync (see the durability policy above). */
  async persistMeta(): Promise<void> {
    if (!this.metaDirty) return;
    await writeMeta(this.metaFh, this.meta);
    this.metaDirty = false;
    // The record on disk may still be unsynced: sync() must fsync it even if nothing changes.
    this.metaUnsynced = true;
  }

  /** fdatasync the data written so far, then write and fdatasync the meta record. */
  async sync(): Promise<void> {
    if (this.writebackError) throw new FsError('EIO', `chunk ${this.chunkId}: writing its data to disk failed: ${this.writebackError.message}`);
    if (this.dataDirty || this.creationPending) {
      await this.data.datasync();
      this.dataDirty = false;
    }
    if (this.metaDirty || this.metaUnsynced || this.creationPending) {
      if (this.metaDirty) await writeMeta(this.metaFh, this.meta);
      this.metaDirty = false;
      await this.metaFh.datasync();
      this.metaUnsynced = false;
    }
    if (this.creationPending) {
      await fsyncDir(this.paths.subdir);
      this.creationPending = false;
    }
  }

  /** Closes both files without writing anything: a corrupt copy is kept as it was found. */
  async abandon(): Promise<void> {
    await Promise.allSettled([this.data.close(), this.metaFh.close()]);
  }

  /**
   * Writes a pending meta record (without fsync) and closes both files. What was not synced stays
   * so (a reopened chunk counts as unsynced); the kernel writes it back in its own time.
   */
  async close(): Promise<void> {
    try {
      if (this.metaDirty) await writeMeta(this.metaFh, this.meta);
      this.metaDirty = false;
    } finally {
      await Promise.allSettled([this.data.close(), this.metaFh.close()]);
    }
  }
}
