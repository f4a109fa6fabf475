/**
 * The master's own metrics, all read at scrape time from state it keeps anyway: the chunkservers
 * it knows, the namespace totals (the `counters` table, one query per scrape), re-replication and
 * rebalancing progress. Running totals since the master started are counters; the rebalancer's are
 * gauges, since they start again with each rebalance job.
 */
import type { Registry } from 'prom-client';
import type { fst } from '../../proto-gen/fst.js';
import { ScrapeSnapshot, scrapedCounter, scrapedGauge, scrapedLabeledGauge } from './scrape-values.js';
import { toNumber } from './to-number.js';

export interface MasterMetricsSource {
  /** Every chunkserver the master knows. */
  servers(): { alive: boolean; draining: boolean; capacity: number; used: number; free: number }[];
  /** Namespace totals. */
  counts(): Promise<{ files: number; directories: number; chunks: number }>;
  replication(): fst.IReplicationProgress;
  /** Replicas reported corrupt since the master started. */
  corruptReported(): number;
  rebalance(): fst.IRebalanceProgress;
}

export function registerMasterMetrics(registry: Registry, src: MasterMetricsSource): void {
  const gauge = (name: string, help: string, read: () => number | undefined | Promise<number | undefined>): void =>
    scrapedGauge(registry, name, help, read);
  const counter = (name: string, help: string, read: () => number): void => scrapedCounter(registry, name, help, read);
  const live = (): { capacity: number; used: number; free: number }[] => src.servers().filter((s) => s.alive);
  const sum = (k: 'capacity' | 'used' | 'free'): number => live().reduce((n, s) => n + s[k], 0);

  scrapedLabeledGauge(registry, 'fst_master_chunkservers', 'Chunkservers known to the master, by state (alive: heartbeat stream open and recent).', 'state', () => {
    const all = src.servers();
    const alive = all.filter((s) => s.alive).length;
    return { alive, dead: all.length - alive };
  });
  gauge('fst_master_chunkservers_draining', 'Chunkservers being decommissioned (alive or not).', () => src.servers().filter((s) => s.draining).length);
  gauge('fst_master_capacity_bytes', 'Disk capacity of the live chunkservers.', () => sum('capacity'));
  gauge('fst_master_used_bytes', 'Bytes of chunk data on the live chunkservers.', () => sum('used'));
  gauge('fst_master_free_bytes', 'Free disk space of the live chunkservers.', () => sum('free'));

  const counts = new ScrapeSnapshot(() => src.counts());
  gauge('fst_master_files', 'Regular files in the namespace.', async () => (await counts.get()).files);
  gauge('fst_master_directories', 'Directories in the namespace.', async () => (await counts.get()).directories);
  gauge('fst_master_chunks', 'Chunks of all files (each counted once, whatever its replicas).', async () => (await counts.get()).chunks);

  const rep = (k: keyof fst.IReplicationProgress) => (): number => toNumber(src.replication()[k]);
  gauge('fst_master_replication_queue', 'Chunks below their goal that a copy can fix, found by the last re-replication pass.', rep('queued'));
  gauge('fst_master_replication_in_flight', 'Re-replication copies running now.', rep('inFlight'));
  counter('fst_master_replication_copied_total', 'Replicas copied by re-replication since the master started.', rep('copied'));
  counter('fst_master_replication_bytes_copied_total', 'Bytes copied by re-replication since the master started.', rep('bytesCopied'));
  counter('fst_master_replication_failed_total', 'Re-replication copies that failed (retried later) since the master started.', rep('failed'));
  counter('fst_master_replication_stale_deleted_total', 'Stale replicas deleted since the master started.', rep('staleDeleted'));
  counter('fst_master_replication_trimmed_total', 'Surplus replicas deleted since the master started.', rep('trimmed'));
  counter('fst_master_corrupt_replicas_reported_total', 'Replicas chunkservers reported corrupt since the master started.', () => src.corruptReported());

  const reb = (k: 'queued' | 'inFlight' | 'moved' | 'bytesMoved' | 'bytesToMove') => (): number => toNumber(src.rebalance()[k]);
  gauge('fst_master_rebalance_running', '1 while a rebalance job runs, else 0.', () => (src.rebalance().state === 'running' ? 1 : 0));
  gauge('fst_master_rebalance_queue', 'Moves planned in the rebalance job\'s current pass.', reb('queued'));
  gauge('fst_master_rebalance_in_flight', 'Rebalance moves running now.', reb('inFlight'));
  gauge('fst_master_rebalance_moved', 'Replicas moved by the current (or last) rebalance job.', reb('moved'));
  gauge('fst_master_rebalance_bytes_moved', 'Bytes moved by the current (or last) rebalance job.', reb('bytesMoved'));
  gauge('fst_master_rebalance_bytes_to_move', 'Estimate of the bytes the rebalance job has left to move.', reb('bytesToMove'));
}
