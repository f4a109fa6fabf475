/**
 * The in-memory index of the chunks a server holds (rebuilt by scanning at start): which data
 * directory has each one, at which version and length, the sum of their lengths, and the listeners
 * told of every change (the heartbeat's deltas). Quarantined copies are not in it.
 */
import { FsError } from '../../common/errors/errno.js';

export interface ChunkEntry {
  /** Index of the data directory holding it. */
  disk: number;
  version: number;
  length: number;
}

/** Told about every chunk added, changed (version or length) or removed (entry undefined). */
export type ChunkChangeListener = (chunkId: number, entry: ChunkEntry | undefined) => void;

/** What the rest of the chunkserver may do with the index: look, never change. */
export type ChunkIndexView = Pick<ChunkIndex, 'onChange' | 'onCorrupt' | 'get' | 'entries' | 'ids' | 'count' | 'usedBytes' | 'expect'>;

export class ChunkIndex {
  private readonly map = new Map<number, ChunkEntry>();
  private readonly listeners = new Set<ChunkChangeListener>();
  private readonly corruptListeners = new Set<(chunkId: number) => void>();
  private used = 0;

  onChange(fn: ChunkChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  /** Told about every chunk quarantined as corrupt, after its removal. */
  onCorrupt(fn: (chunkId: number) => void): () => void {
    this.corruptListeners.add(fn);
    return () => this.corruptListeners.delete(fn);
  }

  get(chunkId: number): ChunkEntry | undefined {
    return this.map.get(chunkId);
  }
  entries(): IterableIterator<[number, ChunkEntry]> {
    return this.map.entries();
  }
  ids(): IterableIterator<number> {
    return this.map.keys();
  }
  get count(): number {
    return this.map.size;
  }
  /** Sum of the chunks' lengths. */
  get usedBytes(): number {
    return this.used;
  }

  /**
   * Records (or, with undefined, forgets) a chunk; listeners hear of it unless `notify` is false
   * (the start-up scan). `corrupt`: it is forgotten because its copy was quarantined.
   */
  set(chunkId: number, entry: ChunkEntry | undefined, o: { notify?: boolean; corrupt?: boolean } = {}): void {
    this.used -= this.map.get(chunkId)?.length ?? 0;
    if (entry) {
      this.map.set(chunkId, entry);
      this.used += entry.length;
    } else {
      this.map.delete(chunkId);
    }
    if (o.notify === false) return;
    for (const fn of this.listeners) fn(chunkId, entry);
    if (!entry && o.corrupt) for (const fn of this.corruptListeners) fn(chunkId);
  }

  /** The chunk's entry; ENOENT when absent, ESTALE when stored at another version. */
  expect(chunkId: number, version: number): ChunkEntry {
    const e = this.map.get(chunkId);
    if (!e) throw new FsError('ENOENT', `chunk ${chunkId} not found`);
    if (e.version !== version) throw new FsError('ESTALE', `chunk ${chunkId} has version ${e.version}, not ${version}`);
    return e;
  }
}
