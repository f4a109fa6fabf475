/**
 * Every chunk this server holds: which data directory has it, at which version and length (an
 * in-memory index rebuilt by scanning at start), and the operations on chunks. Each operation runs
 * under its chunk's lock and checks the version first; the files themselves are ChunkFile's job.
 * Open chunks stay open in a small LRU so that a write stream does not reopen its chunk per message.
 */
import { rename, unlink } from 'node:fs/promises';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import { ChunkFile } from './chunk-file.js';
import { ChunkLocks } from './chunk-locks.js';
import { DataDisks } from './disk-space.js';
import { chunkPaths, ensureDir, fsyncDir } from './layout.js';
import { META_FILE_BYTES } from './meta-file.js';
import { PendingCopy } from './pending-copy.js';
import { scanDataDir } from './scan.js';

export interface ChunkEntry {
  /** Index of the data directory holding it. */
  disk: number;
  version: number;
  length: number;
}

export interface ChunkStoreOptions {
  dataDirs: string[];
  /** Bytes kept free on every data directory: writes past it fail with ENOSPC. */
  reserveBytes: number;
  /** Chunks kept open between operations. */
  maxOpenChunks?: number;
  log: Logger;
}

/** Told about every chunk added, changed (version or length) or removed (entry undefined). */
export type ChunkChangeListener = (chunkId: number, entry: ChunkEntry | undefined) => void;

export class ChunkStore {
  readonly disks: DataDisks;
  private readonly index = new Map<number, ChunkEntry>();
  private readonly open = new Map<number, ChunkFile>();
  private readonly locks = new ChunkLocks();
  private readonly listeners = new Set<ChunkChangeListener>();
  private readonly copying = new Set<number>();
  private readonly closing = new Set<number>();
  private readonly maxOpen: number;
  private readonly log: Logger;
  private used = 0;

  private constructor(opts: ChunkStoreOptions) {
    this.disks = new DataDisks(opts.dataDirs, opts.reserveBytes);
    this.maxOpen = opts.maxOpenChunks ?? 128;
    this.log = opts.log;
  }

  /** Creates missing data directories and scans them. */
  static async open(opts: ChunkStoreOptions): Promise<ChunkStore> {
    const store = new ChunkStore(opts);
    // Disks are scanned in parallel; `found` runs synchronously, so the index needs no lock.
    await Promise.all(store.disks.all.map(async (disk) => {
      await ensureDir(disk.path);
      await scanDataDir(disk.path, opts.log, (c) => {
        const other = store.index.get(c.chunkId);
        if (other) {
          // Two copies come from files moved by hand or a crash while a copy replaced one on
          // another disk: the newer version wins.
          opts.log.warn('chunk found in two data directories', { chunkId: c.chunkId, dirs: [store.disks.get(other.disk).path, disk.path] });
          if (other.version >= c.version) return;
        }
        store.setEntry(c.chunkId, { disk: disk.index, version: c.version, length: c.length }, false);
      });
    }));
    await store.disks.refresh();
    opts.log.info('chunks scanned', { chunks: store.index.size, bytes: store.used });
    return store;
  }

  onChange(fn: ChunkChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get(chunkId: number): ChunkEntry | undefined {
    return this.index.get(chunkId);
  }
  entries(): IterableIterator<[number, ChunkEntry]> {
    return this.index.entries();
  }
  get count(): number {
    return this.index.size;
  }
  /** Sum of the chunks' lengths. */
  get usedBytes(): number {
    return this.used;
  }

  private setEntry(chunkId: number, entry: ChunkEntry | undefined, notify = true): void {
    this.used -= this.index.get(chunkId)?.length ?? 0;
    if (entry) {
      this.index.set(chunkId, entry);
      this.used += entry.length;
    } else {
      this.index.delete(chunkId);
    }
    if (notify) for (const fn of this.listeners) fn(chunkId, entry);
  }

  /** The chunk's entry; ENOENT when absent, ESTALE when stored at another version. */
  expect(chunkId: number, version: number): ChunkEntry {
    const e = this.index.get(chunkId);
    if (!e) throw new FsError('ENOENT', `chunk ${chunkId} not found`);
    if (e.version !== version) throw new FsError('ESTALE', `chunk ${chunkId} has version ${e.version}, not ${version}`);
    return e;
  }

  /** The open ChunkFile of an indexed chunk; call under the chunk's lock. */
  private async file(chunkId: number, entry: ChunkEntry): Promise<ChunkFile> {
    let f = this.open.get(chunkId);
    if (f) {
      this.open.delete(chunkId);
    } else {
      const paths = chunkPaths(this.disks.get(entry.disk).path, chunkId);
      try {
        f = await ChunkFile.open(paths, chunkId);
      } catch (err) {
        // Its meta file is unreadable or a file vanished: the copy is useless. Forget it, so the
        // master learns it is gone and re-replicates; the files stay for inspection.
        this.log.error('corrupt chunk dropped', { chunkId, path: paths.data, err });
        this.setEntry(chunkId, undefined);
        throw err;
      }
    }
    this.open.set(chunkId, f);
    this.evictIdle(chunkId);
    return f;
  }

  /** Closes the least recently used chunks over the limit, each under its own lock. */
  private evictIdle(keep: number): void {
    let excess = this.open.size - this.maxOpen;
    for (const victim of this.open.keys()) {
      if (excess-- <= 0) break;
      if (victim === keep || this.closing.has(victim)) continue;
      this.closing.add(victim);
      this.locks.run(victim, () => this.closeFile(victim))
        .catch((err: unknown) => this.log.warn('closing chunk failed', { chunkId: victim, err }))
        .finally(() => this.closing.delete(victim));
    }
  }

  private async closeFile(chunkId: number): Promise<void> {
    const f = this.open.get(chunkId);
    if (!f) return;
    this.open.delete(chunkId);
    await f.close();
  }

  private changed(chunkId: number, entry: ChunkEntry, f: ChunkFile): void {
    if (entry.version !== f.version || entry.length !== f.length) {
      this.setEntry(chunkId, { ...entry, version: f.version, length: f.length });
    }
  }

  /** Creates an empty chunk at `version` (then optionally sized); idempotent at the same version. */
  create(chunkId: number, version: number, truncateTo?: number): Promise<number> {
    return this.locks.run(chunkId, async () => {
      const existing = this.index.get(chunkId);
      if (existing) {
        if (existing.version === version) return existing.length;
        throw new FsError('EEXIST', `chunk ${chunkId} already exists at version ${existing.version}`);
      }
      const disk = this.disks.pick();
      await disk.reserve(META_FILE_BYTES);
      const f = await ChunkFile.create(chunkPaths(disk.path, chunkId), chunkId, version);
      this.open.set(chunkId, f);
      const entry = { disk: disk.index, version, length: 0 };
      this.setEntry(chunkId, entry);
      if (truncateTo !== undefined) {
        await f.truncate(truncateTo);
        this.changed(chunkId, entry, f);
      }
      this.evictIdle(chunkId);
      return f.length;
    });
  }

  /** Moves a chunk from `version` to `newVersion`, optionally truncating it; durable on return. */
  setVersion(chunkId: number, version: number, newVersion: number, truncateTo?: number): Promise<number> {
    return this.locks.run(chunkId, async () => {
      const entry = this.expect(chunkId, version);
      const f = await this.file(chunkId, entry);
      if (truncateTo !== undefined) await f.truncate(truncateTo);
      await f.setVersion(newVersion);
      this.changed(chunkId, entry, f);
      return f.length;
    });
  }

  /** Writes one message's payload; not durable until sync(). Returns the chunk length. */
  write(chunkId: number, version: number, offset: number, data: Uint8Array): Promise<number> {
    return this.locks.run(chunkId, async () => {
      const entry = this.expect(chunkId, version);
      await this.disks.get(entry.disk).reserve(data.length);
      const f = await this.file(chunkId, entry);
      try {
        await f.write(offset, data);
      } finally {
        this.changed(chunkId, entry, f);
      }
      return f.length;
    });
  }

  /** Makes every write so far durable (fdatasync data, then meta). Returns the chunk length. */
  sync(chunkId: number, version: number): Promise<number> {
    return this.locks.run(chunkId, async () => {
      const entry = this.expect(chunkId, version);
      const f = await this.file(chunkId, entry);
      await f.sync();
      return f.length;
    });
  }

  /**
   * Writes the chunk's meta record (length, checksums) without fsync: the writes so far survive
   * this process dying, not the machine losing power. Returns the chunk length.
   */
  persist(chunkId: number, version: number): Promise<number> {
    return this.locks.run(chunkId, async () => {
      const entry = this.expect(chunkId, version);
      const f = await this.file(chunkId, entry);
      await f.persistMeta();
      return f.length;
    });
  }

  /** Reads a verified range (bytes past the length are zeros). */
  read(chunkId: number, version: number, offset: number, length: number): Promise<Buffer> {
    return this.locks.run(chunkId, async () => {
      const entry = this.expect(chunkId, version);
      return (await this.file(chunkId, entry)).read(offset, length);
    });
  }

  /** Version, length and block checksums, whatever the version. */
  checksums(chunkId: number): Promise<{ version: number; length: number; crcs: Uint32Array }> {
    return this.locks.run(chunkId, async () => {
      const entry = this.index.get(chunkId);
      if (!entry) throw new FsError('ENOENT', `chunk ${chunkId} not found`);
      const f = await this.file(chunkId, entry);
      return { version: f.version, length: f.length, crcs: f.checksums() };
    });
  }

  /** Removes a chunk's files; false when it was not there. */
  delete(chunkId: number): Promise<boolean> {
    return this.locks.run(chunkId, async () => {
      const entry = this.index.get(chunkId);
      if (!entry) return false;
      await this.removeFiles(chunkId, entry);
      this.setEntry(chunkId, undefined);
      return true;
    });
  }

  private async removeFiles(chunkId: number, entry: ChunkEntry): Promise<void> {
    await this.closeFile(chunkId).catch(() => undefined);
    const paths = chunkPaths(this.disks.get(entry.disk).path, chunkId);
    // Data first: a meta file left alone by a crash is ignored by the scan.
    for (const p of [paths.data, paths.meta]) {
      await unlink(p).catch((e: unknown) => {
        if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
      });
    }
    await fsyncDir(paths.subdir);
  }

  /**
   * Starts a copy of a chunk arriving from elsewhere: written to `.tmp` files beside the final
   * ones (on the disk of the copy it replaces, so that installing it is a rename), then installed.
   */
  async beginCopy(chunkId: number, version: number): Promise<PendingCopy> {
    if (this.copying.has(chunkId)) throw new FsError('EBUSY', `chunk ${chunkId} is already being copied`);
    this.copying.add(chunkId);
    const release = (): boolean => this.copying.delete(chunkId);
    try {
      const existing = this.index.get(chunkId);
      const disk = existing ? this.disks.get(existing.disk) : this.disks.pick();
      await disk.reserve(META_FILE_BYTES);
      const file = await ChunkFile.create(chunkPaths(disk.path, chunkId, true), chunkId, version);
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
      await copy.file.sync();
      await copy.file.close();
      const existing = this.index.get(chunkId);
      if (existing && existing.disk !== copy.disk.index) await this.removeFiles(chunkId, existing);
      else await this.closeFile(chunkId);
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
    await Promise.all([...this.open.keys()].map((id) => this.locks.run(id, () => this.closeFile(id))));
  }
}
