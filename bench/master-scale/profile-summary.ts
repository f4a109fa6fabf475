/**
 * Top self-time functions of a V8 .cpuprofile (what bench/cpu-profile.mjs writes), optionally only
 * over some windows of the run (the create steps), on the profile's clock: CLOCK_MONOTONIC in
 * microseconds, which `monotonicUs()` reads in the benchmark process.
 */
import { readFile } from 'node:fs/promises';
import { REPO_ROOT } from '../../test/helpers/daemon-process.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Now on the clock of V8's profiles (CLOCK_MONOTONIC, microseconds). */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  /** Sampled time inside the windows, ms. */
  totalMs: number;
  /** By function (name, file, line) and by file, largest self time first. */
  functions: SelfTime[];
  files: SelfTime[];
}

/** The file of a frame, relative to the repository or node_modules; the function name for V8's own entries. */
function fileOf(n: ProfileNode): string {
  const { functionName, url } = n.callFrame;
  if (!url) return functionName || '(native)';
  return url.replace(/^file:\/\//, '').replace(`${REPO_ROOT}/`, '').replace(/^.*node_modules\//, '');
}

function frameName(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  if (!url) return functionName || '(anonymous)';
  return `${functionName || '(anonymous)'} ${fileOf(n)}:${lineNumber + 1}`;
}

/**
 * Self time by function (name, file and line) and by file over the samples inside `windows` (all
 * samples when none), largest first, with each one's share of those samples' time. "(idle)" is
 * the main thread waiting: for the master, mostly on SQLite statements running on libuv's threads.
 */
export async function topSelfTime(path: string, windows: [number, number][] = [], top = 15): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const byName = new Map<string, number>();
  const byFile = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0; // the time until the next sample belongs to this one
    t += p.timeDeltas[i] ?? 0;
    if (windows.length > 0 && !windows.some(([a, b]) => t >= a && t <= b)) continue;
    const node = nodes.get(p.samples[i]!);
    if (!node) continue;
    const name = frameName(node);
    const file = fileOf(node);
    byName.set(name, (byName.get(name) ?? 0) + dt);
    byFile.set(file, (byFile.get(file) ?? 0) + dt);
    total += dt;
  }
  const largest = (m: Map<string, number>): SelfTime[] => [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 }));
  return { totalMs: total / 1000, functions: largest(byName), files: largest(byFile) };
}
