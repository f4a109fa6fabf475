/**
 * What the mount benchmark asks of the host: shell commands, syncfs, dropping the kernel's caches,
 * counting files, and a seeded random generator (every target reads the same offsets).
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs `bash -c cmd`, resolving with its stdout; rejects (with stderr) on a non-zero exit. */
export async function sh(cmd: string, timeoutMs = 900_000): Promise<string> {
  try {
    const { stdout } = await run('bash', ['-c', cmd], { timeout: timeoutMs, maxBuffer: 256 << 20 });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${cmd}: ${err.message}${err.stderr ? `\n${err.stderr.slice(0, 2000)}` : ''}`, { cause: e });
  }
}

/** Quotes a path for bash. */
export const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * syncfs(2) of the filesystem holding `dir` (coreutils `sync -f`). Every target keeps its bytes on
 * the same disk, so this makes each target's writes durable the same way before the clock stops.
 */
export async function syncfs(dir: string): Promise<void> {
  await sh(`sync -f ${q(dir)}`);
}

/** sync, then drops the page, dentry and inode caches. False when the kernel refused (not root). */
export async function dropCaches(): Promise<boolean> {
  await sh('sync');
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

export interface TreeCount {
  files: number;
  dirs: number;
  /** Neither files nor directories (symlinks...). */
  others: number;
  bytes: number;
}

/** Entries under `dir` by type, and file bytes (find, so the count is the kernel's view; `dir` counts as a directory). */
export async function countTree(dir: string): Promise<TreeCount> {
  const out = await sh(`find ${q(dir)} \\( -type f -printf 'f %s\\n' \\) -o \\( -type d -printf 'd\\n' \\) -o -printf 'o\\n'`);
  const c: TreeCount = { files: 0, dirs: 0, others: 0, bytes: 0 };
  for (const line of out.split('\n')) {
    if (line.startsWith('f ')) {
      c.files++;
      c.bytes += Number(line.slice(2));
    } else if (line === 'd') c.dirs++;
    else if (line === 'o') c.others++;
  }
  return c;
}

export async function isMounted(dir: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[1] === dir);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Busy and total time of all CPUs so far, in jiffies (/proc/stat; iowait counts as idle). */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - (fields[4] ?? 0), total };
}

/**
 * Waits until the CPUs are less than `maxBusy` busy over one `windowMs`, for at most `timeoutMs`;
 * answers whether they were. A target's background work after a workload (MooseFS chunkservers
 * deleting the chunks of removed files, FST's chunk collection) would otherwise slow down the next
 * target's run, and which target runs next is an accident of the order.
 */
export async function waitForQuiet(maxBusy = 0.35, windowMs = 250, timeoutMs = 5000): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  let prev = await cpuTimes();
  while (performance.now() < end) {
    await sleep(windowMs);
    const now = await cpuTimes();
    const busy = (now.busy - prev.busy) / Math.max(1, now.total - prev.total);
    prev = now;
    if (busy < maxBusy) return true;
  }
  return false;
}
