/**
 * The master alone at 10^4, 10^5 and 10^6 files (FST_BENCH_SCALE_MAX; 10^7 by the knob): one
 * fst-master process, no chunkserver, driven by MetaClients in this process. The namespace grows in
 * steps, directories of 1,000 empty regular files made with Mkdir + Mknod, 64 calls in flight; at
 * each size, with creates stopped: Lookup, GetAttr and Readdir (1,000 entries with attributes)
 * latency one call at a time, Lookup throughput with 16 in flight, the master's RSS and its
 * database's size on disk. Every answer is checked; nothing asserts on speed. See bench/README.md.
 *
 * Run: npm run bench -- bench/master-scale.bench-run.ts   (FST_BENCH_SCALE_MAX=100000 for a shorter run)
 */
import { readdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaClient } from '../src/client/meta-client.js';
import { fst } from '../src/client/types.js';
import { ensureBuilt } from '../test/helpers/build.js';
import { monotonicUs, topSelfTime } from './master-scale/profile-summary.js';
import { concurrentThroughput, sequentialLatency } from './master-scale/sampling.js';
import { Rng } from '../test/fuse/differential/rng.js';
import { ScaleMaster, type MasterCpu } from './master-scale/scale-master.js';
import { MiB, fmt, printScaleTable, type SizeResult } from './master-scale/scale-table.js';
import { FILES_PER_DIR, ScaleTree, fileName } from './master-scale/scale-tree.js';
import { masterTls } from '../test/helpers/credentials.js';

/** A knob: an integer of at least `min` (1e6 and 1e7 are accepted as written). */
function knob(name: string, byDefault: number, min = 1): number {
  const v = Number(process.env[name] ?? byDefault);
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} must be an integer of at least ${min}, not ${process.env[name]}`);
  return v;
}

const MAX = knob('FST_BENCH_SCALE_MAX', 1e6, 1e4);
const IN_FLIGHT = knob('FST_BENCH_SCALE_INFLIGHT', 64);
const CLIENTS = knob('FST_BENCH_SCALE_CLIENTS', 2);
const SAMPLES = knob('FST_BENCH_SCALE_SAMPLES', 2000);
const WARMUP = Math.ceil(SAMPLES / 10);
const CONCURRENT = 16;
/** Minutes a create step may run before it stops where it is (0: no limit). */
const BUDGET_MIN = knob('FST_BENCH_SCALE_BUDGET_MIN', 0, 0);
const CPU_PROF = process.env.FST_BENCH_CPU_PROF;

/** 10^4, 10^5 ... up to MAX, and MAX itself when it is not a power of ten. */
const SIZES = ((): number[] => {
  const s: number[] = [];
  for (let n = 1e4; n <= MAX; n *= 10) s.push(n);
  if (s[s.length - 1] !== MAX) s.push(MAX);
  return s;
})();
const labelOf = (n: number): string => (Number.isInteger(Math.log10(n)) ? `10^${Math.log10(n)}` : n.toLocaleString('en-US'));
const say = (line: string): void => void process.stdout.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

describe(`fst-master alone, ${SIZES.map(labelOf).join(', ')} files`, () => {
  let master: ScaleMaster | undefined;
  const clients: MetaClient[] = [];
  let tree: ScaleTree;
  const results: SizeResult[] = [];
  const notes: string[] = [];
  const createWindows: [number, number][] = [];
  let stopped = false;

  beforeAll(async () => {
    await ensureBuilt('master/main.js', ['src']);
    master = await ScaleMaster.start(CPU_PROF);
    for (let i = 0; i < CLIENTS; i++) clients.push(new MetaClient(master.address, { tls: await masterTls(master.address) }));
    tree = new ScaleTree(clients, MAX);
    const mem = await master.memory();
    notes.push(`master RSS before the first create: ${fmt(mem.rss / MiB)} MiB (peak ${fmt(mem.hwm / MiB)} MiB)`);
    say(`fst-master pid ${master.pid} on ${master.address}, database ${master.dbPath}; ${IN_FLIGHT} creates in flight over ` +
      `${CLIENTS} MetaClients; load average ${load()}`);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    // A profiled master writes its profile on exit: give it time.
    await master?.stop(CPU_PROF ? 120_000 : 5_000);
    if (results.length > 0) printScaleTable('fst-master alone: namespace size against create rate, latency and memory', results, notes);
    if (CPU_PROF && master) await printProfile(join(CPU_PROF, `fst-master-${master.pid}.cpuprofile`), createWindows);
  });

  /** Lookup of a random existing file, checked against the inode its Mknod answered. */
  const lookupOp = (client: MetaClient, rng: Rng) => async (): Promise<void> => {
    const k = rng.int(0, tree.count - 1);
    const a = await client.lookup(tree.dirIno[Math.floor(k / FILES_PER_DIR)]!, fileName(k % FILES_PER_DIR));
    if (a.ino !== tree.fileIno[k] || a.type !== fst.FileType.REGULAR) throw new Error(`lookup of file ${k} answered inode ${a.ino} type ${a.type}`);
  };

  for (const size of SIZES) {
    it(`grows to ${labelOf(size)} files and measures`, async (ctx) => {
      if (stopped || !master) ctx.skip();
      const m = master!;
      const client = clients[0]!;

      // The create step.
      const cpu0 = await m.cpuSeconds();
      const bench0 = process.cpuUsage();
      const from = tree.count;
      const t0 = performance.now();
      const mono0 = monotonicUs();
      const step = await tree.grow(size, {
        inFlight: IN_FLIGHT,
        progressMs: 30_000,
        deadline: BUDGET_MIN > 0 ? t0 + BUDGET_MIN * 60_000 : undefined,
        onProgress: (files) => {
          const rate = (files - from) / ((performance.now() - t0) / 1000);
          const eta = (size - files) / rate;
          void m.memory().then((mem) => say(`${files.toLocaleString('en-US')} files, ${fmt(rate)} files/s this step, ` +
            `RSS ${fmt(mem.rss / MiB)} MiB, ${fmt(eta / 60)} min to ${labelOf(size)}; load ${load()}`), () => undefined);
        },
      });
      createWindows.push([mono0, monotonicUs()]);
      const cpu1 = await m.cpuSeconds();
      const bench = process.cpuUsage(bench0);
      const cpu: MasterCpu = { main: cpu1.main - cpu0.main, other: cpu1.other - cpu0.other };
      let label = labelOf(size);
      if (step.cut) {
        stopped = true;
        const rate = step.files / step.seconds;
        label = `${Math.round(tree.count / 1000)}k of ${label}`;
        notes.push(`${labelOf(size)} step cut after ${BUDGET_MIN} min at ${tree.count.toLocaleString('en-US')} files; at its rate ` +
          `(${fmt(rate)} files/s) the whole step would take ${fmt((size - from) / rate / 60)} min`);
      }
      say(`${label}: ${step.files.toLocaleString('en-US')} files + ${step.dirs} directories in ${fmt(step.seconds)} s; master CPU ` +
        `${fmt(cpu.main)} s main thread + ${fmt(cpu.other)} s other threads, this process ${fmt((bench.user + bench.system) / 1e6)} s`);

      // Did the work happen: the master's counters (files + directories, the root included).
      const fs = await client.statfs();
      expect(fs.files).toBe(tree.count + tree.dirs + 1);

      // Latency one call at a time, then lookup throughput; creates are stopped.
      const lookup = await sequentialLatency(lookupOp(client, new Rng(1)), SAMPLES, WARMUP);
      const rng2 = new Rng(2);
      const getattr = await sequentialLatency(async () => {
        const k = rng2.int(0, tree.count - 1);
        const a = await client.getAttr(tree.fileIno[k]!);
        if (a.ino !== tree.fileIno[k] || a.type !== fst.FileType.REGULAR || a.size !== 0) throw new Error(`getattr of file ${k} answered ${JSON.stringify(a)}`);
      }, SAMPLES, WARMUP);
      const fullDirs = Math.floor(tree.count / FILES_PER_DIR);
      const rng3 = new Rng(3);
      const readdir = await sequentialLatency(async () => {
        const d = rng3.int(0, fullDirs - 1);
        const page = await client.readdir(tree.dirIno[d]!, { limit: FILES_PER_DIR, withAttrs: true });
        const wrong = page.entries.findIndex((e, i) => e.name !== fileName(i) || e.ino !== tree.fileIno[d * FILES_PER_DIR + i] || e.attr?.ino !== e.ino);
        if (page.entries.length !== FILES_PER_DIR || page.more || wrong >= 0) {
          throw new Error(`readdir of directory ${d}: ${page.entries.length} entries, more=${page.more}, first wrong entry ${wrong}`);
        }
      }, SAMPLES, WARMUP);
      const lookup16 = await concurrentThroughput(lookupOp(client, new Rng(4)), SAMPLES * 5, CONCURRENT);

      const result: SizeResult = {
        label, files: tree.count, dirs: tree.dirs, step: { files: step.files, dirs: step.dirs, seconds: step.seconds, cpu },
        lookup, getattr, readdir, lookup16, memory: await m.memory(), db: await m.dbSize(),
      };
      results.push(result);
      notes.push(`${label}: create step ${fmt(step.seconds / 60)} min, load average ${load()}, bench process CPU ` +
        `${fmt(((bench.user + bench.system) / (step.files + step.dirs)))} us per create; database ${fmt(result.db.main / MiB)} MiB + ` +
        `wal ${fmt(result.db.wal / MiB)} MiB + shm ${fmt(result.db.shm / MiB)} MiB; lookup max ${fmt(lookup.max)} us, readdir max ${fmt(readdir.max)} us`);
      if (size !== SIZES[SIZES.length - 1] && !stopped) printScaleTable(`after ${label}`, results); // the last comes at the end
    }, 24 * 3600_000);
  }
});

/** The master's top self-time functions and files during the create steps. */
async function printProfile(path: string, windows: [number, number][]): Promise<void> {
  const names: string[] = await readdir(dirname(path)).catch(() => []);
  if (!names.includes(basename(path))) {
    process.stdout.write(`\nno CPU profile at ${path} (the master did not exit cleanly?)\n`);
    return;
  }
  const p = await topSelfTime(path, windows);
  const line = (r: { name: string; ms: number; share: number }): string => `  ${(r.share * 100).toFixed(1).padStart(5)} %  ${fmt(r.ms / 1000).padStart(7)} s  ${r.name}`;
  process.stdout.write([
    `\nfst-master CPU profile (main thread) during the create steps: ${fmt(p.totalMs / 1000)} s sampled (${path})`,
    'self time by function:', ...p.functions.map(line),
    'self time by file:', ...p.files.slice(0, 10).map(line),
  ].join('\n') + '\n');
}
