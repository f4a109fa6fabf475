/**
 * Every chunk this server holds and the operations on them. Each operation runs under its chunk's
 * lock and checks the version first; the files themselves are ChunkFile's job, the index
 * ChunkIndex's, open files OpenChunks'. A copy found corrupt by any operation (corrupt.ts) is
 * quarantined here before the operation fails with EIO. Primary leases (leases.ts) are kept beside
 * the index: they end whenever the chunk's version changes or the chunk goes away.
 */
import { open, rename } from 'node:fs/promises';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import { ChunkFile } from './chunk-file.js';
import { ChunkIndex, type ChunkEntry, type ChunkIndexView } from './chunk-index.js';
import { ChunkLocks } from './chunk-locks.js';
import { ChunkCorruptError, moveAside } from './corrupt.js';
import { DataDisks } from './disk-space.js';
import { missingFile } from './files-present.js';
import { chunkPaths, fsyncDir, removeChunkFiles, type ChunkPaths } from './layout.js';
import { Leases } from './leases.js';
import { META_FILE_MAX_BYTES, readOwner } from './meta-file.js';
import type { ChunkOwner } from './owner-record.js';
import { OpenChunks } from './open-chunks.js';
import { PendingCopy } from './pending-copy.js';
import { scanDisks } from './scan.js';

export interface ChunkStoreOptions {
  dataDirs: string[];
  /** Bytes kept free on every data directory: writes past it fail with ENOSPC. */
  reserveBytes: number;
  /** Chunks kept open between operations. */
  maxOpenChunks?: number;
  log: Logger;
}

/** What SetChunkVersion may do besides creating or moving the version. */
export interface VersionChange {
  /** Cut (or extend) the chunk to this length. */
  truncateTo?: number;
  /** Hold the primary lease at the new version for this long (0 or absent: none granted). */
  leaseMs?: number;
}

export class ChunkStore {
  readonly disks: DataDisks;
  /** Primary leases held here (in memory only). */
  readonly leases = new Leases();
  private readonly chunks = new ChunkIndex();
  /** The chunks held; changed only by the store's operations. */
  readonly index: ChunkIndexView = this.chunks;
  private readonly locks = new ChunkLocks();
  private readonly files: OpenChunks;
  private readonly copying = new Set<number>();
  private readonly log: Logger;

  private constructor(opts: ChunkStoreOptions) {
    this.disks = new DataDisks(opts.dataDirs, opts.reserveBytes);
    this.files = new OpenChunks(this.locks, opts.maxOpenChunks ?? 128, opts.log);
    this.log = opts.log;
  }

  /** Creates missing data directories and scans them. */
  static async open(opts: ChunkStoreOptions): Promise<ChunkStore> {
    const store = new ChunkStore(opts);
    await scanDisks(store.disks, store.chunks, opts.log);
    await store.disks.refresh();
    return store;
  }

  /** Every index change goes through here: a lease ends with its version or its chunk. */
  private setEntry(chunkId: number, entry: ChunkEntry | undefined, corrupt = false): void {
    if (entry) this.leases.endUnlessAt(chunkId, entry.version);
    else this.leases.end(chunkId);
    this.chunks.set(chunkId, entry, { corrupt });
  }

  private paths(chunkId: number, entry: ChunkEntry): ChunkPaths {
    return chunkPaths(this.disks.get(entry.disk).path, chunkId);
  }

  /**
   * Runs `fn` on the chunk's open file; call under the chunk's lock. A copy found corrupt (while
   * opening it or inside `fn`) is quarantined before the error goes on to the caller.
   */
  private async withFile<T>(chunkId: number, entry: ChunkEntry, fn: (f: ChunkFile) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.files.get(chunkId, this.paths(chunkId, entry)));
    } catch (e) {
      // Under the lock only this operation changes the entry; it may have replaced it (changed()).
      const current = this.chunks.get(chunkId);
      if (e instanceof ChunkCorruptError && current) await this.quarantine(chunkId, current, e);
      throw e;
    }
  }

  /**
   * Moves a corrupt copy aside and forgets it: the heartbeat reports it removed and corrupt, and
   * the master re-replicates it from a healthy replica. Its lease ends with it.
   */
  private async quarantine(chunkId: number, entry: ChunkEntry, err: ChunkCorruptError): Promise<void> {
    const paths = this.paths(chunkId, entry);
    this.log.error('corrupt chunk quarantined', { chunkId, version: entry.version, kind: err.kind, path: paths.data, err });
    await this.files.discard(chunkId).catch(() => undefined);
    await moveAside(paths).catch((e: unknown) => this.log.error('cannot move corrupt chunk aside', { chunkId, path: paths.data, err: e }));
    this.setEntry(chunkId, undefined, true);
  }

  private changed(chunkId: number, entry: ChunkEntry, f: ChunkFile): void {
    if (entry.version !== f.version || entry.length !== f.length) {
      this.setEntry(chunkId, { ...entry, version: f.version, length: f.length });
    }
  }

  /**
   * Creates an empty chunk at `version` (then optionally sized), recording `owner` (the file it
   * belongs to) in its meta file; idempotent at the same version (an existing chunk keeps its own
   * owner record). With leaseMs, holds the lease at `version` afterwards (counted from the call).
   */
  create(chunkId: number, version: number, change: VersionChange = {}, owner?: ChunkOwner): Promise<number> {
    const since = this.leases.now();
    return this.locks.run(chunkId, async () => {
      const existing = this.chunks.get(chunkId);
      let length: number;
      if (existing) {
        if (existing.version !== version) throw new FsError('EEXIST', `chunk ${chunkId} already exists at version ${existing.version}`);
        length = existing.length;
      } else {
        const disk = this.disks.pick();
        await disk.reserve(META_FILE_MAX_BYTES);
        const f = await ChunkFile.create(chunkPaths(disk.path, chunkId), chunkId, version, owner);
        this.files.add(chunkId, f);
        const entry = { disk: disk.index, version, length: 0 };
        this.setEntry(chunkId, entry);
        if (change.truncateTo !== undefined) {
          await f.truncate(change.truncateTo);
          this.changed(chunkId, entry, f);
        }
        length = f.length;
      }
      if (change.leaseMs) this.leases.grant(chunkId, version, change.leaseMs, since);
      return length;
    });
  }

  /**
   * Moves a chunk from `version` to `newVersion`, optionally truncating it; durable on return.
   * Equal versions without truncation touch nothing on disk (a lease grant or extension). A new
   * version ends any lease; with leaseMs the lease is then held at `newVersion` (from the call).
   */
  setVersion(chunkId: number, version: number, newVersion: number, change: VersionChange = {}): Promise<number> {
    const since = this.leases.now();
    return this.locks.run(chunkId, async () => {
      const entry = this.chunks.expect(chunkId, version);
      let length = entry.length;
      if (newVersion !== version || change.truncateTo !== undefined) {
        length = await this.withFile(chunkId, entry, async (f) => {
          if (change.truncateTo !== undefined) await f.truncate(change.truncateTo);
          if (f.version !== newVersion) await f.setVersion(newVersion);
          this.changed(chunkId, entry, f);
          return f.length;
        });
      }
      if (change.leaseMs) this.leases.grant(chunkId, newVersion, change.leaseMs, since);
      return length;
    });
  }

  /**
   * Writes one message's payload; not durable until sync(). `guard` runs under the chunk's lock
   * right before the write (the primary's lease check). Returns the chunk length.
   */
  write(chunkId: number, version: number, offset: number, data: Uint8Array, guard?: () => void): Promise<number> {
    return this.locks.run(chunkId, async () => {
      const entry = this.chunks.expect(chunkId, version);
      guard?.();
      await this.disks.get(entry.disk).reserve(data.length);
      return this.withFile(chunkId, entry, async (f) => {
        try {
          await f.write(offset, data);
        } finally {
          this.changed(chunkId, entry, f);
        }
        return f.length;
      });
    });
  }

  /**
   * Makes the writes so far survive this process dying (the meta record with length and checksums
   * is written, without fsync) or, with `sync`, the machine losing power (fdatasync data, then
   * meta). Returns the chunk length.
   */
  flush(chunkId: number, version: number, sync: boolean): Promise<number> {
    return this.locks.run(chunkId, () =>
      this.withFile(chunkId, this.chunks.expect(chunkId, version), async (f) => {
        await (sync ? f.sync() : f.persistMeta());
        return f.length;
      }));
  }

  /** Reads a verified range (bytes past the length are zeros). */
  read(chunkId: number, version: number, offset: number, length: number): Promise<Buffer> {
    return this.locks.run(chunkId, () =>
      this.withFile(chunkId, this.chunks.expect(chunkId, version), (f) => f.read(offset, length)));
  }

  /**
   * The scrubber's step: verifies [offset, offset+length) of the chunk, whatever its version, up to
   * its length. Returns the chunk's length, or undefined when the chunk is gone.
   */
  verify(chunkId: number, offset: number, length: number): Promise<number | undefined> {
    return this.locks.run(chunkId, async () => {
      const entry = this.chunks.get(chunkId);
      if (!entry) return undefined;
      const n = Math.min(length, entry.length - offset);
      // Opening the file reads and checks its meta file even when there is no data left to read.
      await this.withFile(chunkId, entry, async (f) => (n > 0 ? f.read(offset, n) : undefined));
      return entry.length;
    });
  }

  /** Version, length and block checksums, whatever the version. */
  checksums(chunkId: number): Promise<{ version: number; length: number; crcs: Uint32Array }> {
    return this.locks.run(chunkId, async () => {
      const entry = this.chunks.get(chunkId);
      if (!entry) throw new FsError('ENOENT', `chunk ${chunkId} not found`);
      return this.withFile(chunkId, entry, async (f) => ({ version: f.version, length: f.length, crcs: f.checksums() }));
    });
  }

  /**
   * fsck's look at one chunk (ListChunks with verify_files): its entry, and whether one of its
   * files is gone; undefined when it is not held. With `quarantine`, a copy whose files are gone
   * leaves the index like a corrupt one (the heartbeat reports it), and its open descriptor, which
   * could still serve the removed bytes, is dropped. Under the chunk's lock, so that a delete, or an
   * install between its two renames, is never mistaken for a missing file.
   */
  checkFiles(chunkId: number, quarantine: boolean): Promise<{ entry: ChunkEntry; missing: boolean } | undefined> {
    return this.locks.run(chunkId, async () => {
      const entry = this.chunks.get(chunkId);
      if (!entry) return undefined;
      const missing = await missingFile(this.paths(chunkId, entry));
      if (missing && quarantine) await this.quarantine(chunkId, entry, new ChunkCorruptError(chunkId, 'missing', `chunk ${chunkId}: ${missing} file missing`));
      return { entry, missing: missing !== undefined };
    });
  }

  /**
   * Removes a chunk's files; false when it was not there. With a version (not 0), only a copy at
   * that version is removed: a copy at another version is kept and the call fails with ESTALE.
   */
  delete(chunkId: number, version = 0): Promise<boolean> {
    return this.locks.run(chunkId, async () => {
      const entry = this.chunks.get(chunkId);
      if (!entry) return false;
      if (version !== 0 && entry.version !== version) {
        throw new FsError('ESTALE', `chunk ${chunkId} has version ${entry.version}, not ${version}: not deleted`);
      }
      await this.removeFiles(chunkId, entry);
      this.setEntry(chunkId, undefined);
      return true;
    });
  }

  private async removeFiles(chunkId: number, entry: ChunkEntry): Promise<void> {
    await this.files.close(chunkId).catch(() => undefined);
    await removeChunkFiles(this.paths(chunkId, entry));
  }

  /**
   * The chunk's owner record (which file it belongs to), read from its meta file: undefined when
   * it has none or the chunk is not held. A damaged record counts as none (logged); a failed read
   * is thrown. Under the chunk's lock, so that an install's rename is never half seen.
   */
  owner(chunkId: number): Promise<ChunkOwner | undefined> {
    return this.locks.run(chunkId, async () => {
      const entry = this.chunks.get(chunkId);
      if (!entry) return undefined;
      const path = this.paths(chunkId, entry).meta;
      const fh = await open(path, 'r');
      try {
        const owner = await readOwner(fh);
        if (typeof owner !== 'string') return owner;
        this.log.warn('chunk owner record unreadable: counted as none', { chunkId, path, why: owner });
        return undefined;
      } finally {
        await fh.close();
      }
    });
  }

  /**
   * Starts a copy of a chunk arriving from elsewhere: written to `.tmp` files beside the final
   * ones (on the disk of the copy it replaces, so that installing it is a rename), then installed.
   * `owner`: the source's owner record, recorded on the copy.
   */
  async beginCopy(chunkId: number, version: number, owner?: ChunkOwner): Promise<PendingCopy> {
    if (this.copying.has(chunkId)) throw new FsError('EBUSY', `chunk ${chunkId} is already being copied`);
    this.copying.add(chunkId);
    const release = (): boolean => this.copying.delete(chunkId);
    try {
      const existing = this.chunks.get(chunkId);
      const disk = existing ? this.disks.get(existing.disk) : this.disks.pick();
      await disk.reserve(META_FILE_MAX_BYTES);
      const file = await ChunkFile.create(chunkPaths(disk.path, chunkId, true), chunkId, version, owner);
      return new PendingCopy(disk, file, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  /** Replaces the chunk with a finished copy: fsync, rename over the old files, fsync the dir. */
  install(copy: PendingCopy): Promise<number> {
    const chunkId = copy.file.chunkId;
    return this.locks.run(chunkId, async () => {
      if (!copy.claim()) throw new FsError('EINVAL', `copy of chunk ${chunkId} already installed or aborted`);
      const existing = this.chunks.get(chunkId);
      // A copy only ever replaces an older one: another copy (or a version move) may have brought a
      // newer version here while this one was on its way.
      if (existing && existing.version >= copy.file.version) {
        await copy.abort();
        throw new FsError('ESTALE', `chunk ${chunkId}: version ${existing.version} is already here, not installing version ${copy.file.version}`);
      }
      await copy.file.sync();
      await copy.file.close();
      if (existing && existing.disk !== copy.disk.index) await this.removeFiles(chunkId, existing);
      else await this.files.close(chunkId);
      const tmp = copy.file.paths;
      const final = chunkPaths(copy.disk.path, chunkId);
      // Data first: a crash in between leaves new data under the old meta, whose older version
      // (or checksums) mark the copy stale; never a new version over old data.
      await rename(tmp.data, final.data);
      await rename(tmp.meta, final.meta);
      await fsyncDir(final.subdir);
      this.setEntry(chunkId, { disk: copy.disk.index, version: copy.file.version, length: copy.file.length });
      return copy.file.length;
    });
  }

  /** Writes pending meta records and closes every open chunk. */
  async close(): Promise<void> {
    await this.files.closeAll();
  }
}
