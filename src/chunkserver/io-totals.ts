/**
 * What this chunkserver's data RPCs have done since the process started: calls served and bytes
 * moved. The handlers add to plain numbers where the bytes are written or sent (an increment, no
 * cost on the data path); every heartbeat reports the totals to the master (fstadmin status, a
 * dashboard's operations per second) and /metrics reads them at scrape time, so the heartbeat's
 * numbers do not depend on the daemon having metrics.
 */
import type { ChunkIoTotals } from '../common/metrics/chunkserver-metrics.js';

export class IoTotals implements ChunkIoTotals {
  /** ReadChunk streams and ReadRange calls served. */
  reads = 0;
  /** WriteChunk streams and WriteRange calls served, from clients and forwarded down a chain. */
  writes = 0;
  /** Chunk data sent by ReadChunk and ReadRange, to clients and to peers copying a chunk. */
  bytesRead = 0;
  /** Written for clients (WriteRange, WriteChunk streams): this server is the chunk's primary. */
  bytesWrittenByClients = 0;
  /** Written for the previous replica of a chain (forwarded pieces). */
  bytesWrittenByChain = 0;
  /** Received by CopyChunk (re-replication and rebalancing into this server). */
  bytesCopiedIn = 0;

  /** Chunk data written by WriteRange and WriteChunk, whoever sent it. */
  get bytesWritten(): number {
    return this.bytesWrittenByClients + this.bytesWrittenByChain;
  }
}
