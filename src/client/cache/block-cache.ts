/**
 * The mount's read cache: file blocks in an LRU bounded by bytes (lru-cache), shared by every open
 * file and descriptor, with single flight — concurrent reads of one block share one fetch (JuiceFS
 * pkg/chunk/singleflight.go). Keys carry the file's identity and version stamp (mtime + size), so a
 * file that changed never serves old blocks: they simply stop being asked for and age out.
 */
import { LRUCache } from 'lru-cache';

export interface BlockCacheStats {
  hits: number;
  misses: number;
  bytes: number;
}

export class BlockCache {
  private readonly lru: LRUCache<string, Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  private hits = 0;
  private misses = 0;

  constructor(budgetBytes: number) {
    this.lru = new LRUCache<string, Buffer>({
      maxSize: Math.max(1, budgetBytes),
      // An empty block (past EOF) still takes an entry: count it as one byte.
      sizeCalculation: (b) => Math.max(1, b.length),
    });
  }

  /** The block under `key`, fetched by `fetch` at most once however many readers ask at the same time. */
  get(key: string, fetch: () => Promise<Buffer>): Promise<Buffer> {
    const cached = this.lru.get(key);
    if (cached) {
      this.hits++;
      return Promise.resolve(cached);
    }
    const pending = this.inflight.get(key);
    if (pending) {
      this.hits++;
      return pending;
    }
    this.misses++;
    const p = fetch().then(
      (data) => {
        this.inflight.delete(key);
        this.lru.set(key, data);
        return data;
      },
      (e: unknown) => {
        // A failed fetch is not remembered: the next reader tries again.
        this.inflight.delete(key);
        throw e;
      },
    );
    this.inflight.set(key, p);
    return p;
  }

  stats(): BlockCacheStats {
    return { hits: this.hits, misses: this.misses, bytes: this.lru.calculatedSize };
  }
}
