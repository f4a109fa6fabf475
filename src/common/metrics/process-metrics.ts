/**
 * The Node.js process metrics (CPU, memory, heap, event loop lag, GC, file descriptors) under their
 * standard unprefixed names (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`...), so
 * that stock Node.js dashboards work. They describe a process, not a daemon: they are collected
 * once per process, in a registry of their own that every daemon's /metrics includes. A daemon in
 * production has its own process; tests that run several daemons in one process see the same
 * figures on each, which is what they are. Which daemon a scrape came from is Prometheus's `job`
 * and `instance` labels, and `fst_daemon_info`.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

let shared: Registry | undefined;

/** The process registry, created (and its collectors started: GC observer, event loop monitor) on first use. */
export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
