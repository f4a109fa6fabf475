/**
 * A transfer progress bar with throughput, drawn on stderr only when it is a terminal: piped or
 * redirected output (scripts, tests) stays clean.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from './format.js';
import type { CliIo } from './program.js';

export interface Progress {
  update(done: number): void;
  /** A new total (work found or finished meanwhile, as in a rebalance). */
  setTotal(total: number): void;
  stop(): void;
}

const silent: Progress = { update: () => {}, setTotal: () => {}, stop: () => {} };

/** `unit`: 'bytes' shows sizes and a speed; 'count' plain numbers (replicas, chunks). */
export function startProgress(io: CliIo, label: string, total: number, unit: 'bytes' | 'count' = 'bytes'): Progress {
  if (!io.stderr.isTTY) return silent;
  const started = Date.now();
  const bar = new cliProgress.SingleBar({
    stream: io.stderr,
    format: `${label} [{bar}] {percentage}% | {done} / {size} | {speed}`,
    barsize: 30,
    hideCursor: true,
    clearOnComplete: false,
    fps: 5,
  }, cliProgress.Presets.shades_classic);
  const payload = (done: number): Record<string, string> => {
    const secs = (Date.now() - started) / 1000;
    if (unit === 'count') return { done: String(done), size: String(total), speed: secs > 0 ? `${(done / secs).toFixed(1)}/s` : '-' };
    return { done: formatBytes(done), size: formatBytes(total), speed: secs > 0 ? `${formatBytes(done / secs)}/s` : '-' };
  };
  bar.start(Math.max(total, 1), 0, payload(0));
  return {
    update: (done) => bar.update(Math.min(done, Math.max(total, 1)), payload(done)),
    setTotal: (n) => {
      total = n;
      bar.setTotal(Math.max(n, 1));
    },
    stop: () => bar.stop(),
  };
}
