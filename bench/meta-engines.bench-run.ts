/**
 * The metadata engines side by side: the same workloads on a cluster whose master keeps its
 * metadata in SQLite (the default) and on one whose master uses PostgreSQL (`--meta`, a throwaway
 * PostgreSQL 15 cluster that fsyncs as production does), in the same run. Each cluster is a master
 * + 3 chunkservers as processes (replication 2) with one FUSE mount. Rounds alternate which engine
 * goes first; the table gives each workload's median and the ratio PostgreSQL/SQLite (the issue's
 * target: at least 0.7 on every row).
 *
 * - metadata calls through MetaClients straight at the master (bench/meta-engines/meta-workloads.ts):
 *   creates (Mknod, many in flight over a few directories; and one at a time), GetAttr, Lookup,
 *   rename into the next directory;
 * - small-file creates through the mount: 4 KiB files written whole, one after the other.
 *
 * Run: npx vitest run --config bench/vitest.config.ts bench/meta-engines.bench-run.ts
 *      (FST_BENCH_ROUNDS=3, FST_BENCH_META_SECONDS=3 per metadata workload, FST_BENCH_META_FILES=50000 at most
 *      created per round, FST_BENCH_FILES=2000, FST_BENCH_INFLIGHT=64;
 *      FST_BENCH_CPU_PROF=DIR: CPU profiles of the masters, summed up at the end;
 *      FST_BENCH_AB_ROOT=DIR: two more clusters run the daemons of another built checkout, e.g. the
 *      previous commit's, named sqlite@base and postgres@base: an A/B of a change in the same run;
 *      FST_BENCH_PG_DURABLE=0: PostgreSQL with fsync off, to see what its flush per commit costs)
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaClient } from '../src/client/meta-client.js';
import { ensureBuilt } from '../test/helpers/build.js';
import { masterTls } from '../test/helpers/credentials.js';
import { FuseMount } from '../test/helpers/fuse-mount.js';
import { PgCluster } from '../test/helpers/postgres.js';
import { startProcessCluster, type ProcessCluster } from '../test/helpers/process-cluster.js';
import { runMetaWorkloads, type MetaRates } from './meta-engines/meta-workloads.js';
import { monotonicUs, topSelfTime } from './master-scale/profile-summary.js';
import { printComparison, type ComparisonRow } from './report.js';

function knob(name: string, byDefault: number): number {
  const v = Number(process.env[name] ?? byDefault);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, not ${process.env[name]}`);
  return v;
}
const ROUNDS = knob('FST_BENCH_ROUNDS', 3);
const META_SECONDS = knob('FST_BENCH_META_SECONDS', 3);
const META_FILES = knob('FST_BENCH_META_FILES', 50_000);
const MOUNT_FILES = knob('FST_BENCH_FILES', 2000);
const IN_FLIGHT = knob('FST_BENCH_INFLIGHT', 64);
const CPU_PROF = process.env.FST_BENCH_CPU_PROF;
const AB_ROOT = process.env.FST_BENCH_AB_ROOT;
/** 0: PostgreSQL with fsync off (what the commits' flushes cost, as SQLite's default --sync normal does not flush each). */
const PG_DURABLE = process.env.FST_BENCH_PG_DURABLE !== '0';

const say = (line: string): void => void process.stdout.write(`  ${new Date().toISOString().slice(11, 19)} ${line}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

type Workload = keyof MetaRates | 'mountCreate';
const ROWS: [Workload, string][] = [
  ['create', `create (Mknod), ${IN_FLIGHT} in flight`],
  ['createOneAtATime', 'create (Mknod), one at a time'],
  ['getattr', `stat (GetAttr), ${IN_FLIGHT} in flight`],
  ['lookup', `lookup, ${IN_FLIGHT} in flight`],
  ['rename', `rename, ${IN_FLIGHT} in flight`],
  ['mountCreate', '4 KiB file creates (mount)'],
];

type Engine = 'sqlite' | 'postgres';
interface Target {
  name: Engine | `${Engine}@base`;
  cluster: ProcessCluster;
  mount: FuseMount;
  clients: MetaClient[];
  results: Record<Workload, number[]>;
  /** CLOCK_MONOTONIC windows of the metadata workloads (for the profile summary). */
  windows: [number, number][];
}

describe('metadata engines: PostgreSQL against SQLite', () => {
  let pg: PgCluster | undefined;
  const targets: Target[] = [];

  beforeAll(async () => {
    await ensureBuilt('master/main.js', ['src']);
    pg = await PgCluster.start({ durable: PG_DURABLE });
    let masterEnv: NodeJS.ProcessEnv = {};
    if (CPU_PROF) {
      await mkdir(CPU_PROF, { recursive: true });
      const preload = join(import.meta.dirname, 'cpu-profile.mjs');
      masterEnv = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim(), FST_CPU_PROF_DIR: CPU_PROF };
    }
    const names: Target['name'][] = AB_ROOT ? ['sqlite@base', 'postgres@base', 'sqlite', 'postgres'] : ['sqlite', 'postgres'];
    for (const name of names) {
      const masterArgs = name.startsWith('postgres') ? ['--meta', await pg.createDatabase()] : [];
      // The daemons of the other checkout (test/helpers/daemon-process.ts reads FST_BIN_ROOT at each start).
      const binRoot = process.env.FST_BIN_ROOT;
      if (name.endsWith('@base')) process.env.FST_BIN_ROOT = AB_ROOT;
      const t: Target = { name, cluster: undefined as unknown as ProcessCluster, mount: undefined as unknown as FuseMount, clients: [], results: { create: [], createOneAtATime: [], getattr: [], lookup: [], rename: [], mountCreate: [] }, windows: [] };
      try {
        t.cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterEnv, masterArgs });
        targets.push(t);
        t.mount = await FuseMount.start(t.cluster.masterAddress);
      } finally {
        if (binRoot === undefined) delete process.env.FST_BIN_ROOT;
        else process.env.FST_BIN_ROOT = binRoot;
      }
      const cluster = t.cluster;
      for (let i = 0; i < 2; i++) t.clients.push(new MetaClient(cluster.masterAddress, { tls: await masterTls(cluster.masterAddress) }));
      say(`${name}: master pid ${cluster.master.pid} on ${cluster.masterAddress}`);
    }
  });

  afterAll(async () => {
    try {
      for (const t of targets) {
        for (const c of t.clients) c.close();
        await t.mount?.stop();
        await t.cluster.stop();
      }
    } finally {
      await pg?.stop();
    }
    if (CPU_PROF) {
      for (const t of targets) {
        const p = await topSelfTime(join(CPU_PROF, `fst-master-${t.cluster.master.pid}.cpuprofile`), t.windows, 20).catch(() => undefined);
        if (!p) continue;
        process.stdout.write(`\n${t.name} master, metadata workloads: ${p.totalMs.toFixed(0)} ms sampled\n`);
        for (const f of p.functions) process.stdout.write(`  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(6)} ms  ${f.name}\n`);
      }
    }
  });

  async function mountCreates(t: Target, round: number): Promise<number> {
    const dir = t.mount.path(`small-${round}`);
    await mkdir(dir);
    const data = Buffer.alloc(4096, 5);
    const t0 = performance.now();
    for (let i = 0; i < MOUNT_FILES; i++) await writeFile(join(dir, `f${i}`), data);
    const rate = MOUNT_FILES / ((performance.now() - t0) / 1000);
    expect((await readdir(dir)).length).toBe(MOUNT_FILES);
    return rate;
  }

  it('measures both engines in alternating rounds', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) {
        const w0 = monotonicUs();
        const rates = await runMetaWorkloads(t.clients, `r${round}`, { seconds: META_SECONDS, files: META_FILES, dirs: 4, inFlight: IN_FLIGHT, sequentialFiles: 500 });
        t.windows.push([w0, monotonicUs()]);
        for (const [k, v] of Object.entries(rates) as [keyof MetaRates, number][]) t.results[k].push(v);
        say(`round ${round} ${t.name}: ${Object.entries(rates).map(([k, v]) => `${k} ${v.toFixed(0)}/s`).join(', ')}; load ${loadavg()[0]!.toFixed(1)}`);
      }
      for (const t of order) {
        t.results.mountCreate.push(await mountCreates(t, round));
        say(`round ${round} ${t.name}: mount creates ${t.results.mountCreate.at(-1)!.toFixed(0)}/s`);
      }
    }
    const rowsOf = (names: Target['name'][]): ComparisonRow[] => ROWS.map(([k, workload]) => ({
      workload, unit: 'ops/s', lowerIsBetter: false, caches: '-',
      values: Object.fromEntries(names.map((n) => [n, median(targets.find((t) => t.name === n)!.results[k])])),
    }));
    const what = `${PG_DURABLE ? '' : 'PostgreSQL fsync=off, '}median of ${ROUNDS} rounds (metadata workloads ${META_SECONDS} s each, ${MOUNT_FILES} mount files per round)`;
    printComparison(`metadata engines, ${what}`, ['sqlite', 'postgres'], 'sqlite', rowsOf(['sqlite', 'postgres']), [
      `rounds: ${targets.map((t) => `${t.name} ${JSON.stringify(Object.fromEntries(Object.entries(t.results).map(([k, v]) => [k, v.map((x) => Math.round(x))])))}`).join('; ')}`,
    ]);
    if (AB_ROOT) {
      printComparison(`the base checkout (${AB_ROOT}), ${what}`, ['sqlite@base', 'postgres@base'], 'sqlite@base', rowsOf(['sqlite@base', 'postgres@base']));
      for (const e of ['sqlite', 'postgres'] as const) printComparison(`A/B on ${e}: this checkout against the base`, [`${e}@base`, e], `${e}@base`, rowsOf([`${e}@base`, e]));
    }
  });
});
