/**
 * A chunkserver's metrics: bytes moved by its data RPCs (counted where the bytes are written or
 * sent, see ChunkIoCounters) and, read at scrape time, what it holds and its link to the master.
 */
import { Counter, type Registry } from 'prom-client';
import { scrapedGauge } from './scrape-values.js';

/** Something bytes are added to. A prom-client counter child is one. */
export interface ByteCounter {
  inc(bytes: number): void;
}

/** Where the chunkserver's data RPCs count their bytes (absent when the daemon has no metrics). */
export interface ChunkIoCounters {
  /** Written for clients (WriteRange, WriteChunk streams): this server is the chunk's primary. */
  readonly writtenByClients: ByteCounter;
  /** Written for the previous replica of a chain (forwarded pieces). */
  readonly writtenByChain: ByteCounter;
  /** Sent by ReadChunk and ReadRange, to clients and to peers copying a chunk. */
  readonly read: ByteCounter;
  /** Received by CopyChunk (re-replication and rebalancing into this server). */
  readonly copiedIn: ByteCounter;
}

export interface ChunkserverMetricsSource {
  chunks(): number;
  /** Sum of the chunks' lengths. */
  usedBytes(): number;
  disks(): { capacityBytes: number; freeBytes: number };
  /** Requests being served. */
  load(): number;
  /** Registered with the master and beating. */
  registered(): boolean;
}

export function chunkserverMetrics(registry: Registry, src: ChunkserverMetricsSource): ChunkIoCounters {
  const written = new Counter({
    name: 'fst_chunkserver_bytes_written_total',
    help: 'Bytes written to chunks by WriteRange and WriteChunk, by source: client (this server is the primary) or chain (forwarded by the previous replica).',
    labelNames: ['source'],
    registers: [registry],
  });
  const counter = (name: string, help: string): Counter => new Counter({ name, help, registers: [registry] });
  const gauge = (name: string, help: string, read: () => number): void => scrapedGauge(registry, name, help, read);

  gauge('fst_chunkserver_chunks', 'Chunks held (quarantined copies excluded).', () => src.chunks());
  gauge('fst_chunkserver_used_bytes', 'Sum of the lengths of the chunks held.', () => src.usedBytes());
  gauge('fst_chunkserver_capacity_bytes', 'Capacity of the data directories\' filesystems (at the last statfs).', () => src.disks().capacityBytes);
  gauge('fst_chunkserver_free_bytes', 'Free space of the data directories\' filesystems (at the last statfs).', () => src.disks().freeBytes);
  gauge('fst_chunkserver_requests_in_flight', 'ChunkserverService calls being served (the load reported to the master).', () => src.load());
  gauge('fst_chunkserver_master_connected', '1 while registered with the master and beating, else 0.', () => (src.registered() ? 1 : 0));

  const io: ChunkIoCounters = {
    writtenByClients: written.labels('client'),
    writtenByChain: written.labels('chain'),
    read: counter('fst_chunkserver_bytes_read_total', 'Bytes of chunk data sent by ReadChunk and ReadRange (to clients and to peers copying).'),
    copiedIn: counter('fst_chunkserver_bytes_copied_total', 'Bytes of chunk data received by CopyChunk (re-replication into this server).'),
  };
  // Both sources exist from the start, at 0.
  io.writtenByClients.inc(0);
  io.writtenByChain.inc(0);
  return io;
}
