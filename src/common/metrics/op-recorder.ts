/**
 * The instruments of one kind of operation (an RPC method, a FUSE op): a counter of finished
 * operations by outcome and a latency histogram, with their label sets bound once, so that
 * recording a call costs a histogram observation and a counter increment, nothing more.
 */
import type { Counter, Histogram } from 'prom-client';

/** Latency buckets in seconds, 100 µs to 60 s: from a cached getattr to a stalled chunk copy. */
export const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The outcome of a success; failures carry their errno name (ENOENT, ESTALE...). */
export const OK = 'OK';

export class OpRecorder {
  private readonly ok: Counter.Internal;
  private readonly latency: Histogram.Internal<string>;
  /** Counter children of the failures seen so far, by errno name (a few dozen at most). */
  private readonly failures = new Map<string, Counter.Internal>();

  /**
   * `labels` name the operation (e.g. service and method); the counter has one more label,
   * `outcomeLabel`, and the histogram none.
   */
  constructor(
    private readonly done: Counter<string>,
    latency: Histogram<string>,
    private readonly labels: Record<string, string>,
    private readonly outcomeLabel: string,
  ) {
    this.ok = done.labels({ ...labels, [outcomeLabel]: OK });
    this.latency = latency.labels(labels);
    // Series that exist from the start, so that rate() sees the very first call.
    this.ok.inc(0);
    latency.zero(labels);
  }

  /** One operation finished, started at `t0` (performance.now()); `outcome` is OK or an errno name. */
  record(t0: number, outcome: string): void {
    this.latency.observe((performance.now() - t0) / 1000);
    if (outcome === OK) {
      this.ok.inc();
      return;
    }
    let c = this.failures.get(outcome);
    if (!c) {
      c = this.done.labels({ ...this.labels, [this.outcomeLabel]: outcome });
      this.failures.set(outcome, c);
    }
    c.inc();
  }
}
