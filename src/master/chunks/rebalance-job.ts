/**
 * The rebalance job as recorded in the `settings` table, so that a restarted master resumes a job
 * that was running (and keeps its totals). JSON in one row: the job is tiny and changes rarely.
 */
import type { MasterDb } from '../db/database.js';

export type RebalanceState = 'idle' | 'running' | 'balanced' | 'stuck';

export interface RebalanceJob {
  state: RebalanceState;
  /** Fraction of the mean use each server must come within. */
  threshold: number;
  rateBytes: number;
  startedMs: number;
  moved: number;
  bytesMoved: number;
  failed: number;
}

const KEY = 'rebalance';

export async function loadRebalanceJob(db: MasterDb, defaults: RebalanceJob): Promise<RebalanceJob> {
  const row = await db.reader.get<{ value: string }>('SELECT value FROM settings WHERE name = ?', [KEY]);
  if (!row) return defaults;
  try {
    return { ...defaults, ...(JSON.parse(row.value) as Partial<RebalanceJob>) };
  } catch {
    return defaults; // a damaged row only loses the job's totals
  }
}

export async function saveRebalanceJob(db: MasterDb, job: RebalanceJob): Promise<void> {
  await db.write((tx) => tx.run(
    'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    [KEY, JSON.stringify(job)],
  ));
}
