/**
 * A chunkserver's metrics, all read at scrape time: the bytes its data RPCs moved (running totals
 * the daemon keeps anyway for its heartbeat, see ChunkIoTotals), what it holds and its link to the
 * master.
 */
import type { Registry } from 'prom-client';
import { scrapedCounter, scrapedGauge, scrapedLabeledCounter } from './scrape-values.js';

/** The chunkserver's data RPC totals since it started (chunkserver/io-totals.ts keeps them). */
export interface ChunkIoTotals {
  /** Written for clients (WriteRange, WriteChunk streams): this server is the chunk's primary. */
  readonly bytesWrittenByClients: number;
  /** Written for the previous replica of a chain (forwarded pieces). */
  readonly bytesWrittenByChain: number;
  /** Sent by ReadChunk and ReadRange, to clients and to peers copying a chunk. */
  readonly bytesRead: number;
  /** Received by CopyChunk (re-replication and rebalancing into this server). */
  readonly bytesCopiedIn: number;
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
  /** Bytes moved by the data RPCs so far. */
  io: ChunkIoTotals;
}

export function chunkserverMetrics(registry: Registry, src: ChunkserverMetricsSource): void {
  const gauge = (name: string, help: string, read: () => number): void => scrapedGauge(registry, name, help, read);
  const { io } = src;

  // Both sources are in every scrape, at 0 until written, so rate() sees the first bytes.
  scrapedLabeledCounter(registry, 'fst_chunkserver_bytes_written_total',
    'Bytes written to chunks by WriteRange and WriteChunk, by source: client (this server is the primary) or chain (forwarded by the previous replica).',
    'source', () => ({ client: io.bytesWrittenByClients, chain: io.bytesWrittenByChain }));
  scrapedCounter(registry, 'fst_chunkserver_bytes_read_total', 'Bytes of chunk data sent by ReadChunk and ReadRange (to clients and to peers copying).', () => io.bytesRead);
  scrapedCounter(registry, 'fst_chunkserver_bytes_copied_total', 'Bytes of chunk data received by CopyChunk (re-replication into this server).', () => io.bytesCopiedIn);
  gauge('fst_chunkserver_chunks', 'Chunks held (quarantined copies excluded).', () => src.chunks());
  gauge('fst_chunkserver_used_bytes', 'Sum of the lengths of the chunks held.', () => src.usedBytes());
  gauge('fst_chunkserver_capacity_bytes', 'Capacity of the data directories\' filesystems (at the last statfs).', () => src.disks().capacityBytes);
  gauge('fst_chunkserver_free_bytes', 'Free space of the data directories\' filesystems (at the last statfs).', () => src.disks().freeBytes);
  gauge('fst_chunkserver_requests_in_flight', 'ChunkserverService calls being served (the load reported to the master).', () => src.load());
  gauge('fst_chunkserver_master_connected', '1 while registered with the master and beating, else 0.', () => (src.registered() ? 1 : 0));
}
