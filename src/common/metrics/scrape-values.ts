/**
 * Metrics whose values are read when Prometheus scrapes rather than pushed on every change: the
 * daemon's state already holds them (a count, a queue length, a running total), so keeping a
 * second copy up to date on hot paths would cost for nothing.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** What a collector reads; undefined (or a failure) keeps the previous value. */
type Read<T> = () => T | undefined | Promise<T | undefined>;

/** A gauge set from `read` at each scrape. */
export function scrapedGauge(registry: Registry, name: string, help: string, read: Read<number>): void {
  new Gauge({
    name, help, registers: [registry],
    async collect() {
      const v = await readSafely(read);
      if (v !== undefined) this.set(v);
    },
  });
}

/** A gauge with one label, set per label value from `read` at each scrape. */
export function scrapedLabeledGauge<L extends string>(
  registry: Registry, name: string, help: string, label: L, read: Read<Record<string, number>>,
): void {
  new Gauge({
    name, help, labelNames: [label], registers: [registry],
    async collect() {
      const values = await readSafely(read);
      if (values) for (const [k, v] of Object.entries(values)) this.set({ [label]: k } as Record<L, string>, v);
    },
  });
}

/**
 * A counter copied at each scrape from a running total the daemon keeps (e.g. copies done since
 * start). The total must only grow while the process lives, as counters do.
 */
export function scrapedCounter(registry: Registry, name: string, help: string, read: Read<number>): void {
  new Counter({
    name, help, registers: [registry],
    async collect() {
      const v = await readSafely(read);
      if (v === undefined) return;
      this.reset();
      this.inc(Math.max(0, v));
    },
  });
}

/** A counter with one label, copied per label value from running totals at each scrape. */
export function scrapedLabeledCounter<L extends string>(
  registry: Registry, name: string, help: string, label: L, read: Read<Record<string, number>>,
): void {
  new Counter({
    name, help, labelNames: [label], registers: [registry],
    async collect() {
      const values = await readSafely(read);
      if (!values) return;
      this.reset();
      for (const [k, v] of Object.entries(values)) this.inc({ [label]: k } as Record<L, string>, Math.max(0, v));
    },
  });
}

async function readSafely<T>(read: Read<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    // The part it reads is closing (the daemon is stopping): keep the last value.
    return undefined;
  }
}

/**
 * `load` once per scrape: the collectors of several metrics that read one snapshot (one database
 * query) share the load in flight. A registry runs every collector of a scrape at once, so they all
 * join the first one's load; the next scrape loads afresh (no caching, no stale values).
 */
export class ScrapeSnapshot<T> {
  private pending: Promise<T> | undefined;

  constructor(private readonly load: () => Promise<T>) {}

  get(): Promise<T> {
    this.pending ??= this.load().finally(() => (this.pending = undefined));
    return this.pending;
  }
}
