/**
 * fst-mount against a local directory, a FUSE passthrough of one (bindfs) and MooseFS, in the same
 * run, on the same disk: sequential 1 GiB write and read, 4 KiB random reads, small-file creates
 * (with and without fsync), reads and lstats, cp -r / ls -lR / find / du -s / tar xf / rm -rf of a
 * real source tree, and mkdir, symlink, chmod, utimens, rename, unlink and rmdir of a few thousand
 * entries. Prints every figure and its ratio to MooseFS (to bindfs when MooseFS is not a target).
 * See bench/README.md for what each workload does and how to read the table.
 *
 * Run: npm run bench -- bench/mount.bench-run.ts
 * Knobs: FST_BENCH_MIB (1024), FST_BENCH_FILES (2000), FST_BENCH_ONLY (workload ids or groups:
 * big, small, tree, meta, small-meta), FST_BENCH_TARGETS (local,bindfs,moosefs,fst),
 * FST_BENCH_MFS_FSYNC (1: MooseFS chunkservers fsync at chunk close), FST_BENCH_CPU_PROF (a
 * directory: CPU profiles of the FST daemons), FST_BENCH_BASE (another built checkout, run as
 * target fst-base for an A/B of two commits in one run).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentile } from './master-scale/sampling.js';
import { moosefsMissing, startMoosefs } from './mount/moosefs.js';
import { stageSourceTree } from './mount/source-tree.js';
import { cpuByRole, PROCESS_ROLES, type ProcessRole } from './mount/process-cpu.js';
import { dropCaches, waitForQuiet } from './mount/system.js';
import { startBindfs, startFst, startLocal, type Target, type TargetName } from './mount/targets.js';
import { rowNumber, selectWorkloads, type BenchParams, type Workload } from './mount/workloads.js';
import { ROUND_GAP_MS } from './mount/workloads/common.js';
import { printComparison, type ComparisonRow } from './report.js';

const MiB = 1024 * 1024;
const env = process.env;
const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter(Boolean);
const KNOWN: TargetName[] = ['local', 'bindfs', 'moosefs', 'fst', 'fst-base'];
const TARGETS = (list(env.FST_BENCH_TARGETS) ?? KNOWN) as TargetName[];
const WORKLOADS = selectWorkloads(list(env.FST_BENCH_ONLY));
/** The ratios' baseline: the first of these that runs. */
const BASELINES: TargetName[] = ['moosefs', 'bindfs'];
const PROFILING = Boolean(env.FST_BENCH_CPU_PROF);

describe('fst-mount vs local directory, bindfs passthrough and MooseFS', () => {
  let root = '';
  const targets: Target[] = [];
  /** Targets asked for that could not run, and why. */
  const skipped: string[] = [];
  let params: BenchParams;

  beforeAll(async () => {
    for (const t of TARGETS) if (!KNOWN.includes(t)) throw new Error(`unknown target ${t}; known: ${KNOWN.join(', ')}`);
    root = await mkdtemp(join(tmpdir(), 'fst-bench-mount-'));
    params = {
      bytes: Number(env.FST_BENCH_MIB ?? 1024) * MiB,
      files: Number(env.FST_BENCH_FILES ?? 2000),
      randomReads: 20_000,
      tree: await stageSourceTree(root),
    };
    // Pushed one by one, so that afterAll stops whatever started even if a later start fails.
    for (const name of TARGETS) {
      if (name === 'local') targets.push(await startLocal(root));
      if (name === 'bindfs') targets.push(await startBindfs(root));
      if (name === 'moosefs') {
        const missing = await moosefsMissing();
        if (missing) {
          skipped.push(`moosefs: skipped: ${missing}`);
          process.stdout.write(`  NOTE moosefs target skipped: ${missing}\n`);
        } else targets.push(await startMoosefs(root, { fsyncChunks: env.FST_BENCH_MFS_FSYNC === '1' }));
      }
      if (name === 'fst') targets.push(await startFst(env.FST_BENCH_CPU_PROF));
      if (name === 'fst-base') {
        if (!env.FST_BENCH_BASE) throw new Error('target fst-base needs FST_BENCH_BASE: the directory of another built checkout');
        targets.push(await startFst(env.FST_BENCH_CPU_PROF, env.FST_BENCH_BASE));
      }
    }
  });

  afterAll(async () => {
    for (const t of targets.reverse()) await t.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('measures each workload on every target', async () => {
    // The pids up front, for strace -p or top while the workloads run.
    for (const t of targets) process.stdout.write(`  ${t.name}: ${t.describe}\n`);
    const baseline = BASELINES.find((b) => targets.some((t) => t.name === b));
    const rows: ComparisonRow[] = [];
    /** CPU seconds per GiB moved, by role, of the workloads that move bytes (the last round of each). */
    const cpuRows: { workload: string; target: string; perGib: Record<ProcessRole, number> }[] = [];
    /** Runs that started before the machine was quiet (waitForQuiet gave up). */
    let notQuiet = 0;
    // A workload and those that follow it run together on each target (see Workload.follows).
    const batches: Workload[][] = [];
    for (const w of WORKLOADS) {
      const lead = batches[batches.length - 1];
      if (w.follows && lead?.some((x) => x.id === w.follows)) lead.push(w);
      else batches.push([w]);
    }
    for (const batch of batches) {
      const rowOf = new Map<Workload, ComparisonRow>(batch.map((w) => [w, {
        workload: `${rowNumber(w)}. ${w.title(params)}`, unit: w.unit, lowerIsBetter: w.unit === 's', caches: w.cold ? 'cold' : 'warm', values: {},
      }]));
      const rounds = batch[0]!.rounds ?? 1;
      const samples = new Map<Workload, Map<string, number[]>>(batch.map((w) => [w, new Map()]));
      const lastEnd = new Map<string, number>();
      for (let round = 1; round <= rounds; round++) {
        for (const t of targets) {
          for (const w of batch) {
            const row = rowOf.get(w)!;
            // A round starts cold only once the client caches expired (ROUND_GAP_MS).
            const since = performance.now() - (lastEnd.get(t.name) ?? -Infinity);
            if (w === batch[0] && since < ROUND_GAP_MS) await new Promise((r) => setTimeout(r, ROUND_GAP_MS - since));
            if (!(await waitForQuiet())) notQuiet++;
            if (w.cold && !(await dropCaches())) row.caches = 'cached';
            const cpu0 = w.bytes && t.pids ? cpuByRole(t.pids) : undefined;
            const t0 = process.hrtime.bigint();
            const value = await w.run(t, params);
            const t1 = process.hrtime.bigint();
            if (cpu0 && w.bytes && t.pids) {
              const cpu1 = cpuByRole(t.pids);
              const gib = w.bytes(params) / (1024 * MiB);
              cpuRows.push({ workload: row.workload, target: t.name, perGib: Object.fromEntries(PROCESS_ROLES.map((r) => [r, (cpu1[r] - cpu0[r]) / gib])) as Record<ProcessRole, number> });
            }
            lastEnd.set(t.name, performance.now());
            const mine = samples.get(w)!;
            mine.set(t.name, [...(mine.get(t.name) ?? []), value]);
            // When profiling, the window on the profiles' clock (CLOCK_MONOTONIC, microseconds).
            const window = PROFILING ? ` [monotonic us ${t0 / 1000n}-${t1 / 1000n}]` : '';
            const of = rounds > 1 ? ` round ${round}/${rounds}` : '';
            process.stdout.write(`  ${w.id.padEnd(12)} ${t.name.padEnd(7)} ${value.toFixed(2)} ${w.unit} (${(Number(t1 - t0) / 1e9).toFixed(1)} s)${of}${window}\n`);
          }
        }
      }
      for (const w of batch) {
        const row = rowOf.get(w)!;
        for (const [name, values] of samples.get(w)!) row.values[name] = percentile(Float64Array.from(values).sort(), 50);
        rows.push(row);
      }
    }
    const ratio = baseline
      ? `ratio to ${baseline}, above 1 is better on every row: figure / ${baseline} figure for rates, ${baseline} seconds / seconds for times`
      : 'no ratios: neither moosefs nor bindfs ran';
    printComparison(
      `FUSE mount benchmark (MB/s = MiB/s; ${ratio})`,
      targets.map((t) => t.name),
      baseline,
      rows,
      [
        '^ a rate, higher is better; v seconds, lower is better. A ratio above 1 beats the baseline on every row.',
        'cold: sync + drop_caches before each target; warm: not dropped; cached: dropping failed (not root).',
        `Each run starts once the CPUs are less than 35% busy over 250 ms (the idle daemons of both targets use about 15%), so that background work of the run before (chunk deletion) is done; ${notQuiet} started after waiting 5 s in vain.`,
        'Write workloads end with syncfs inside the timing; fst-mount also sends and commits each file at close, mfsmount flushes to the chunkservers at close.',
        `source tree: ${params.tree.describe}`,
        ...targets.map((t) => `${t.name}: ${t.describe}`),
        ...skipped,
        `host: ${cpus().length} CPUs, Linux ${release()}, load average at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      ],
    );
    printCpu(cpuRows, baseline);
    expect(rows.length).toBe(WORKLOADS.length);
  });
});

/** CPU seconds per GiB moved by each role of each target, and each target's total against the baseline's. */
function printCpu(rows: { workload: string; target: string; perGib: Record<ProcessRole, number> }[], baseline: string | undefined): void {
  if (rows.length === 0) return;
  const total = (r: { perGib: Record<ProcessRole, number> }): number => PROCESS_ROLES.reduce((n, role) => n + r.perGib[role], 0);
  const lines = ['\nCPU seconds per GiB moved (user + system, all threads), by role; total / baseline total: below 1 uses less CPU'];
  lines.push(`${'workload'.padEnd(40)}  ${'target'.padEnd(8)}  ${PROCESS_ROLES.map((r) => r.padStart(12)).join('  ')}  ${'total'.padStart(8)}  ${'vs base'.padStart(8)}`);
  for (const r of rows) {
    const base = rows.find((b) => b.workload === r.workload && b.target === baseline);
    const vs = base && r.target !== baseline && total(base) > 0 ? (total(r) / total(base)).toFixed(2) : '-';
    lines.push(`${r.workload.slice(0, 40).padEnd(40)}  ${r.target.padEnd(8)}  ${PROCESS_ROLES.map((role) => r.perGib[role].toFixed(2).padStart(12)).join('  ')}  ${total(r).toFixed(2).padStart(8)}  ${vs.padStart(8)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
