/**
 * What /health answers: 200 and `{"status":"ok",...}` while the daemon serves, 503 and
 * `{"status":"unavailable","reason":...}` otherwise. Each daemon decides what "serves" means
 * (the master: running; a chunkserver: running, its master link in the details; a mount: mounted).
 */
import type { ServiceState } from '../lifecycle/service.js';

export type HealthReport =
  | { ok: true; details?: Record<string, unknown> }
  | { ok: false; reason: string; details?: Record<string, unknown> };

/** The daemon's own state, and `extra` (e.g. its master link) once it is running. */
export function lifecycleHealth(
  what: string,
  state: () => ServiceState,
  extra?: () => HealthReport,
): () => HealthReport {
  return () => {
    const s = state();
    if (s !== 'running') return { ok: false, reason: `${what} is ${s}`, details: { state: s } };
    const more = extra?.();
    return more ? { ...more, details: { state: s, ...more.details } } : { ok: true, details: { state: s } };
  };
}
