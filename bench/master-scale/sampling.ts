/**
 * Latency and throughput sampling for the master-scale benchmark: calls timed one at a time, and
 * calls kept `inFlight` at once for a throughput figure. (Names and inodes are picked with the
 * differential tester's seeded Rng, so every run asks the same ones.)
 */

export interface Latency {
  samples: number;
  /** Microseconds. */
  p50: number;
  p99: number;
  max: number;
}

/** The nearest-rank percentile `p` (0-100) of ascending `sorted`. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

function summarise(us: Float64Array): Latency {
  us.sort();
  return { samples: us.length, p50: percentile(us, 50), p99: percentile(us, 99), max: us[us.length - 1] ?? NaN };
}

/**
 * Calls `op(i)` `warmup` times untimed, then `samples` times one at a time, each timed from its
 * start to its answer. `op` checks its own answer (and throws when it is wrong).
 */
export async function sequentialLatency(op: (i: number) => Promise<void>, samples: number, warmup: number): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await op(i);
  const us = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await op(i);
    us[i] = (performance.now() - t) * 1000;
  }
  return summarise(us);
}

export interface Throughput extends Latency {
  opsPerSec: number;
}

/** `total` calls with `inFlight` running at once; ops/s over the whole, and each call's latency under that load. */
export async function concurrentThroughput(op: (i: number) => Promise<void>, total: number, inFlight: number): Promise<Throughput> {
  const us = new Float64Array(total);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now();
      await op(i);
      us[i] = (performance.now() - t) * 1000;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { ...summarise(us), opsPerSec: total / seconds };
}
