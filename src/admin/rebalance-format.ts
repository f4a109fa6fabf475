/** The words for a rebalance job's progress (fstadmin rebalance and status). */
import { fst } from '../proto-gen/fst.js';
import { formatBytes } from '../cli/format.js';

/** RebalanceProgress in its JSON form. */
export interface Rebalance {
  state: string;
  threshold: number;
  rateBytes: number;
  moved: number;
  bytesMoved: number;
  bytesToMove: number;
  queued: number;
  inFlight: number;
  failed: number;
  maxDeviation: number;
}

/** The JSON form of a RebalanceProgress, every field present. */
export const rebalanceToJson = (p: fst.IRebalanceProgress | null | undefined): Rebalance =>
  fst.RebalanceProgress.toObject(fst.RebalanceProgress.create(p ?? {}), { longs: Number, defaults: true }) as Rebalance;

export function describeRebalance(r: Rebalance): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  return `rebalance ${r.state}: ${r.moved} replicas moved (${formatBytes(r.bytesMoved)}), about ${formatBytes(r.bytesToMove)} left, ` +
    `largest deviation ${pct(r.maxDeviation)} (threshold ${pct(r.threshold)}), ${r.failed} failed moves`;
}

