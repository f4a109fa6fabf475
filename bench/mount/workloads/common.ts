/**
 * What every mount-benchmark workload shares: the workload and parameter types, the data pattern
 * (so that any read can be checked), names, the "did it do its work" check, and the timing of a
 * change: a syncfs before (untimed) and one inside the timing, so that every target's bytes and
 * metadata are on disk when the clock stops.
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import type { SourceTree } from '../source-tree.js';
import { syncfs } from '../system.js';
import type { Target } from '../targets.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** The small files' size. */
export const SMALL = 4 * KiB;

/**
 * Between two cold rounds of one workload on one target: client caches (FST's entry cache,
 * mfsmount's attribute and directory caches) last about a second, and a round starts cold only once
 * that has passed since the target's last one.
 */
export const ROUND_GAP_MS = 1500;

export interface BenchParams {
  /** Size of the big file. */
  bytes: number;
  /** Small files created (and read, stat'ed), and entries of each metadata workload. */
  files: number;
  /** 4 KiB random reads (in all, whatever the number of readers). */
  randomReads: number;
  tree: SourceTree;
}

export interface Workload {
  id: string;
  /** Row title in the table. */
  title: (p: BenchParams) => string;
  unit: 'MB/s' | 'IOPS' | 'files/s' | 'ops/s' | 's';
  /** Whether the kernel caches are dropped first. */
  cold: boolean;
  /** Workloads whose results this one uses (run first even when not asked for). */
  needs: string[];
  /**
   * Times it runs on each target (targets taking turns), the median reported: for read-only
   * workloads short enough that one run is mostly noise. Default 1.
   */
  rounds?: number;
  /**
   * Runs on each target right after this workload ran there (same round), before the next target
   * runs anything: another target's cold start drops every cache, which would make a warm re-read
   * measured after it cold.
   */
  follows?: string;
  run: (t: Target, p: BenchParams) => Promise<number>;
  /** Bytes the workload moves: its CPU time per GiB is reported for the targets that name their processes. */
  bytes?: (p: BenchParams) => number;
}

/** 64 MiB of random bytes; the big file and every small file are slices of this pattern repeated. */
const PATTERN = randomBytes(64 * MiB);
export const expected = (off: number, len: number): Buffer => PATTERN.subarray(off % PATTERN.length, (off % PATTERN.length) + len);

export const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/** `f000042`: names that sort in creation order. */
export const entryName = (prefix: string, i: number): string => `${prefix}${String(i).padStart(6, '0')}`;

export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`workload did not do its work: ${what}`);
}

/** Entries of `dir` whose name starts with `prefix` (and that pass `is`, when given). */
export async function countEntries(dir: string, prefix: string, is?: (e: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }) => boolean): Promise<number> {
  return (await readdir(dir, { withFileTypes: true })).filter((e) => e.name.startsWith(prefix) && (is?.(e) ?? true)).length;
}

/** Seconds that `change` takes, with a syncfs before (untimed) and after (timed). */
export async function timedChange(t: Target, change: () => Promise<unknown>): Promise<number> {
  await syncfs(t.backing);
  const t0 = performance.now();
  await change();
  await syncfs(t.backing);
  return seconds(t0);
}

/** Operations per second of `op(0)`...`op(n - 1)`, one at a time, timed as `timedChange`. */
export async function timedOps(t: Target, n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const s = await timedChange(t, async () => {
    for (let i = 0; i < n; i++) await op(i);
  });
  return n / s;
}
