/**
 * A mount's metrics: every FUSE operation counted by outcome and timed (the adapter records them),
 * bytes applications read and wrote through the mount, and, read at scrape time, the read cache
 * and write-back state of the Vfs.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, OpRecorder } from './op-recorder.js';
import { scrapedCounter, scrapedGauge } from './scrape-values.js';

export interface MountMetricsSource {
  /** Read cache lookups since mount (a read joining a fetch in flight is a hit) and bytes held. */
  cache(): { hits: number; misses: number; bytes: number };
  /** Written data held in memory, not yet on the chunkservers. */
  writebackBytes(): number;
  /** Open file descriptors. */
  openFiles(): number;
}

export class MountMetrics {
  readonly bytesRead: Counter;
  readonly bytesWritten: Counter;
  private readonly ops: Counter<'op' | 'result'>;
  private readonly seconds: Histogram<'op'>;
  private readonly recorders = new Map<string, OpRecorder>();

  constructor(registry: Registry, src: MountMetricsSource) {
    this.ops = new Counter({
      name: 'fst_fuse_ops_total',
      help: 'FUSE operations answered, by op and result (OK or the errno name).',
      labelNames: ['op', 'result'],
      registers: [registry],
    });
    this.seconds = new Histogram({
      name: 'fst_fuse_op_seconds',
      help: 'Time from a FUSE request reaching fst-mount to its answer, by op.',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.bytesRead = new Counter({ name: 'fst_mount_bytes_read_total', help: 'Bytes applications read through the mount.', registers: [registry] });
    this.bytesWritten = new Counter({ name: 'fst_mount_bytes_written_total', help: 'Bytes applications wrote through the mount.', registers: [registry] });

    const cache = src.cache.bind(src);
    scrapedCounter(registry, 'fst_mount_cache_hits_total', 'Read cache lookups answered from memory or by joining a fetch in flight.', () => cache().hits);
    scrapedCounter(registry, 'fst_mount_cache_misses_total', 'Read cache lookups that fetched the block from a chunkserver.', () => cache().misses);
    scrapedGauge(registry, 'fst_mount_cache_hit_ratio', 'hits / (hits + misses) since mount; 0 before any lookup.', () => {
      const { hits, misses } = cache();
      return hits + misses === 0 ? 0 : hits / (hits + misses);
    });
    scrapedGauge(registry, 'fst_mount_cache_bytes', 'Bytes of file data in the read cache.', () => cache().bytes);
    scrapedGauge(registry, 'fst_mount_writeback_bytes', 'Written data buffered in memory, not yet acknowledged by the chunkservers.', () => src.writebackBytes());
    scrapedGauge(registry, 'fst_mount_open_files', 'Open file descriptors.', () => src.openFiles());
  }

  /** The recorder of FUSE op `name` (made on its first call, then reused). */
  op(name: string): OpRecorder {
    let r = this.recorders.get(name);
    if (!r) {
      r = new OpRecorder(this.ops, this.seconds, { op: name }, 'result');
      this.recorders.set(name, r);
    }
    return r;
  }
}
