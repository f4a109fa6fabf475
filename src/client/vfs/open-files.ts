/**
 * The files this mount has open, one entry per inode shared by all its handles. Writes to one inode
 * go through one FileWriter whatever the handle, so that two descriptors of a file (or four
 * processes appending to it) see each other's writes at once and never race for chunk versions.
 * The entry lives while a handle is open.
 */
import type { Logger } from '../../common/log/logger.js';
import type { ChunkClient } from '../chunk-client.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import { RunningCounts } from '../../common/running-counts.js';
import type { LocateResult, MetaClient } from '../meta-client.js';
import type { Attr, ChunkLocation } from '../types.js';
import { FileWriter, type WritebackOptions } from '../writeback/file-writer.js';
import { baseOf, type InlineBase } from '../writeback/inline-writer.js';
import type { MemoryBudget } from '../writeback/memory-budget.js';
import type { UnsyncedChunks } from '../writeback/unsynced-chunks.js';

/**
 * Cached chunk locations are asked for again after this long: their access tokens last ten minutes
 * (master/security/chunk-tokens.ts), and a read with an expired one costs a refusal per replica.
 */
const LOCATIONS_MAX_AGE_MS = 5 * 60_000;

export interface OpenFileDeps {
  meta: MetaClient;
  chunks: ChunkClient;
  writeback: WritebackOptions;
  log: Logger;
  /** New attributes from the master (a commit, a truncate): the entry cache takes them. */
  onAttr: (attr: Attr) => void;
  /** The mount-wide write-back memory limit. */
  memory?: MemoryBudget;
  /** The mount's record of chunks written without sync (fsync makes them durable). */
  unsynced: UnsyncedChunks;
}

export class OpenFile {
  handles = 0;
  /** Size and times as the master last reported them. */
  attr: Attr;
  private writerInstance: FileWriter | undefined;
  /** Bumped whenever data may have changed under cached reads (commit, truncate, reopen). */
  generation = 0;
  /** Local mtime of the last write not yet committed (shown by getattr meanwhile). */
  pendingMtimeMs = 0;

  constructor(
    attr: Attr,
    private readonly deps: OpenFileDeps,
  ) {
    this.attr = attr;
  }

  get ino(): number {
    return this.attr.ino;
  }

  /** What open or create learned of the content, for the writer (see InlineBase). */
  base: InlineBase | undefined;

  /** The shared writer, created on first use. */
  writer(): FileWriter {
    const { meta, chunks, unsynced, memory, log } = this.deps;
    this.writerInstance ??= new FileWriter({ meta, chunks, unsynced, memory, log: log.child({ ino: this.attr.ino }) }, this.attr.ino,
      this.deps.writeback, (a, inline) => this.committed(a, inline), this.base);
    return this.writerInstance;
  }

  get hasWriter(): boolean {
    return this.writerInstance !== undefined;
  }

  /** Size including writes not yet committed. */
  get size(): number {
    return Math.max(this.attr.size, this.writerInstance?.pendingEnd ?? 0);
  }

  /**
   * The attributes to show, from the newest the mount has (`base`, e.g. the entry cache's after a
   * link changed nlink, or the open-time ones), with pending writes' size and mtime laid over.
   */
  view(base: Attr = this.attr): Attr {
    const attr = newer(base, this.attr);
    const pending = this.writerInstance && this.writerInstance.pendingBytes > 0;
    if (!pending) return attr;
    const ms = this.pendingMtimeMs;
    const mtime = { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
    return { ...attr, size: Math.max(attr.size, this.size), mtime, ctime: mtime };
  }

  private locations = new Map<number, ChunkLocation | null>();
  private locationsGeneration = -1;
  /** When the cached locations were first asked for: their access tokens expire (see LOCATIONS_MAX_AGE_MS). */
  private locationsAt = 0;
  private locationsSize = -1;
  /** The file's bytes when it keeps them inline (known with the locations). */
  private locationsInline: Buffer | undefined;

  /**
   * What the master said of the file's content at open (its inline bytes, or that it has none),
   * so that reading a small file costs no further call.
   */
  known(attr: Attr, inline: Buffer | undefined): void {
    this.base = baseOf(attr, inline);
    if (!inline) return;
    this.locations.clear();
    this.locationsGeneration = this.generation;
    this.locationsSize = attr.size;
    this.locationsInline = inline;
  }

  /** Names this file's current contents in the shared block cache. */
  cacheKey(): string {
    return `${this.attr.ino}:${this.attr.mtime.sec}.${this.attr.mtime.nsec}:${this.attr.size}`;
  }

  /**
   * Chunk locations of a range, asking the master only for chunks not seen since the data last
   * changed (a commit or truncate through this mount, or a reopen that found the file changed):
   * random reads then cost one chunkserver request, not a master request too.
   */
  async locate(offset: number, length: number): Promise<LocateResult> {
    if (this.locations.size > 0 && performance.now() - this.locationsAt > LOCATIONS_MAX_AGE_MS) this.forgetLocations();
    if (this.locationsGeneration !== this.generation) {
      this.locations.clear();
      this.locationsGeneration = this.generation;
      this.locationsSize = -1;
      this.locationsInline = undefined;
    }
    if (this.locationsInline && this.locationsSize >= 0) return { size: this.locationsSize, chunks: [], inline: this.locationsInline };
    const first = Math.floor(offset / CHUNK_SIZE);
    const last = Math.floor((offset + Math.max(1, length) - 1) / CHUNK_SIZE);
    let known = this.locationsSize >= 0;
    for (let i = first; known && i <= last; i++) known = this.locations.has(i) || i * CHUNK_SIZE >= this.locationsSize;
    if (!known) {
      const gen = this.generation;
      const res = await this.deps.meta.locateChunks(this.attr.ino, first * CHUNK_SIZE, (last - first + 1) * CHUNK_SIZE);
      if (gen === this.generation && res.inline) {
        this.locationsSize = res.size;
        this.locationsInline = res.inline;
      } else if (gen === this.generation) {
        if (this.locations.size === 0) this.locationsAt = performance.now();
        const end = Math.min(last, Math.ceil(res.size / CHUNK_SIZE) - 1);
        for (let i = first; i <= end; i++) this.locations.set(i, null);
        for (const c of res.chunks) this.locations.set(c.index, c);
        this.locationsSize = res.size;
      }
      return res;
    }
    const chunks: ChunkLocation[] = [];
    for (let i = first; i <= last; i++) {
      const c = this.locations.get(i);
      if (c) chunks.push(c);
    }
    return { size: this.locationsSize, chunks };
  }

  /** Forgets cached locations (a read met a replica that refused them). */
  forgetLocations(): void {
    this.locations.clear();
    this.locationsSize = -1;
    this.locationsInline = undefined;
  }

  /** Sends and commits everything pending; throws a stored or new flush error. */
  async flush(): Promise<void> {
    await this.writerInstance?.flush();
  }

  /** fsync(2): flush, and make every chunk of the file written so far durable on its replicas. */
  async fsync(): Promise<void> {
    await this.writer().flush(true);
  }

  /** After a truncate: cached allocations carry dead versions and cached blocks old bytes. */
  truncated(attr: Attr): void {
    this.writerInstance?.forgetAllocations();
    this.writerInstance?.truncated(attr);
    this.base = attr.size === 0 ? baseOf(attr, undefined) : undefined;
    this.attr = attr;
    this.generation++;
    this.deps.onAttr(attr);
  }

  private committed(attr: Attr, inline?: Buffer): void {
    this.attr = attr;
    this.generation++;
    this.deps.onAttr(attr);
    // The content of an inline write is what the file holds now: reads need not ask for it.
    if (inline) {
      this.locations.clear();
      this.locationsGeneration = this.generation;
      this.locationsSize = attr.size;
      this.locationsInline = inline;
    }
  }
}

/**
 * Whether two attribute sets of one inode name the same data: every change of data moves ctime,
 * which the master stamps in nanoseconds that never go backwards and no caller can set.
 */
export function sameData(a: Attr, b: Attr): boolean {
  return a.size === b.size && a.mtime.sec === b.mtime.sec && a.mtime.nsec === b.mtime.nsec && a.ctime.sec === b.ctime.sec && a.ctime.nsec === b.ctime.nsec;
}

/** Of two attribute sets of one inode, the later (ctime moves with every change). */
export function newer(a: Attr, b: Attr): Attr {
  if (a.ctime.sec !== b.ctime.sec) return a.ctime.sec > b.ctime.sec ? a : b;
  return a.ctime.nsec >= b.ctime.nsec ? a : b;
}

export class OpenFileTable {
  private readonly files = new Map<number, OpenFile>();
  /** Opens under way per inode (asking the master), counted as open by a removal meanwhile. */
  private readonly opening = new RunningCounts<number>();

  constructor(private readonly deps: OpenFileDeps) {}

  get(ino: number): OpenFile | undefined {
    return this.files.get(ino);
  }

  /** Takes a reference on the inode's entry; `attr` is fresh from the master (close-to-open). */
  acquire(attr: Attr): OpenFile {
    let f = this.files.get(attr.ino);
    if (!f) {
      f = new OpenFile(attr, this.deps);
      this.files.set(attr.ino, f);
    } else if (!f.hasWriter || f.writer().pendingBytes === 0) {
      // Only ever move forward: `attr` may have been fetched before a commit of this mount landed,
      // and an older size would make the next O_APPEND write overwrite the last one.
      const latest = newer(attr, f.attr);
      if (latest !== f.attr) {
        if (latest.mtime.sec !== f.attr.mtime.sec || latest.mtime.nsec !== f.attr.mtime.nsec || latest.size !== f.attr.size) f.generation++;
        f.attr = latest;
      }
    }
    f.handles++;
    return f;
  }

  /** Drops a reference; the entry goes with the last one. */
  release(f: OpenFile): void {
    if (--f.handles <= 0) this.files.delete(f.ino);
  }

  all(): OpenFile[] {
    return [...this.files.values()];
  }

  /** Inodes open now, or being opened. */
  get size(): number {
    return this.files.size + this.opening.size;
  }

  /** Whether `ino` is open here, or being opened. */
  isOpen(ino: number): boolean {
    return this.files.has(ino) || this.opening.has(ino);
  }

  /**
   * Runs an open of `ino` (its master call included) counting the inode as open meanwhile, so that
   * a removal racing it keeps the inode for it (orphans.ts).
   */
  whileOpening<T>(ino: number, fn: () => Promise<T>): Promise<T> {
    return this.opening.around([ino], fn);
  }
}
