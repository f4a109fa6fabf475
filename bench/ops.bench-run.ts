/**
 * What operations cost, each figure against a baseline measured in the same run: rebalancing onto
 * a fourth chunkserver and draining one (decommission), both against copying as many bytes from one
 * local file to another with fsync; fsck against a bare walk of the chunkservers' directories
 * (every chunk file stat'ed); and a write with every daemon's metrics endpoint scraped each second
 * against the same write without metrics. Every workload is checked (sha256, chunk counts on disk);
 * nothing asserts on speed.
 *
 * Run: npm run bench -- bench/ops.bench-run.ts   (FST_BENCH_MIB=256 for a shorter run)
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../src/common/ids.js';
import { adminStatus, runCli } from '../test/helpers/cli.js';
import { closedPort } from '../test/helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../test/helpers/process-cluster.js';
import { chunksOnDisk, copyWithFsync, expectedSha, mbps, MiB, readBack, withClient, writeData, writeLocal } from './faults/cluster-io.js';
import { dropCaches, sleep } from './mount/system.js';
import { printTable, type BenchRow } from './report.js';

const TOTAL = Number(process.env.FST_BENCH_MIB ?? 512) * MiB;
/** Whole-chunk files for the rebalance and decommission (3 x TOTAL: enough replicas to even out). */
const FILES = Math.max(2, Math.round((3 * TOTAL) / CHUNK_SIZE));
/** Small files added before fsck, so that it checks many chunks. */
const SMALL_FILES = Number(process.env.FST_BENCH_FILES ?? 1000);
const say = (line: string): void => void process.stdout.write(`  ${line}\n`);
const rows: BenchRow[] = [];
const notes: string[] = [];
/** Fast moves: the figures measure the machinery, not a rate limit. */
const MASTER_ARGS = ['--replication-interval-ms', '300', '--lease-ms', '1000', '--replication-rate-mib', '2000', '--replication-concurrency', '2'];

async function localCopyMs(bytes: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'fst-bench-ops-'));
  try {
    await writeLocal(join(dir, 'src'), bytes);
    await dropCaches();
    const t = performance.now();
    expect(await copyWithFsync(join(dir, 'src'), join(dir, 'dst'))).toBe(bytes);
    return performance.now() - t;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function admin(c: ProcessCluster, ...args: string[]): Promise<string> {
  const r = await runCli('fstadmin', ['--master', c.masterAddress, ...args]);
  if (r.code !== 0) throw new Error(`fstadmin ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Stats every file under the chunkservers' data directories: what any check of the disks costs. */
async function walk(dirs: string[]): Promise<number> {
  let files = 0;
  const visit = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await visit(join(d, e.name));
      else {
        await stat(join(d, e.name));
        files++;
      }
    }
  };
  for (const d of dirs) await visit(d);
  return files;
}

describe('operations costs', () => {
  afterAll(() => {
    printTable('Operations costs (MB/s = MiB/s; ratio = fst / baseline, both measured in this run)', rows);
    for (const n of [...notes, `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`]) say(n);
  });

  it('1. rebalance onto a new server, then decommission one, vs a local copy with fsync', async () => {
    const c = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: MASTER_ARGS });
    try {
      await withClient(c, async (client) => {
        for (let i = 0; i < FILES; i++) await writeData(client, `/f${i}`, CHUNK_SIZE, i * CHUNK_SIZE);
      });
      await sleep(12_000); // the write leases end (chunks under a lease never move)
      await c.addChunkserver();
      await c.waitForChunkservers(4);
      await dropCaches();
      let t = performance.now();
      const rebalance = JSON.parse(await admin(c, 'rebalance', '--threshold', '10', '--json')) as { state: string; bytesMoved: number; moved: number };
      const rebalanceMs = performance.now() - t;
      expect(rebalance.state).toBe('balanced');
      expect(rebalance.moved).toBeGreaterThan(0);
      say(`rebalance: ${rebalance.moved} replicas (${(rebalance.bytesMoved / MiB).toFixed(0)} MiB) moved in ${(rebalanceMs / 1000).toFixed(1)} s`);

      const victim = c.chunkservers[0]!;
      const held = (await chunksOnDisk(c))[0]!.length;
      await dropCaches();
      t = performance.now();
      await admin(c, 'decommission', victim.process.address, '--wait');
      const drainMs = performance.now() - t;
      expect((await chunksOnDisk(c))[0]).toEqual([]);
      const drained = held * CHUNK_SIZE;
      say(`decommission: ${held} replicas (${(drained / MiB).toFixed(0)} MiB) drained in ${(drainMs / 1000).toFixed(1)} s`);

      const st = await adminStatus(c.masterAddress);
      expect(st.health).toMatchObject({ healthy: FILES, underReplicated: 0, missing: 0 });
      await withClient(c, async (client) => {
        for (let i = 0; i < FILES; i++) expect((await readBack(client, `/f${i}`)).sha).toBe(expectedSha(CHUNK_SIZE, i * CHUNK_SIZE));
      });

      // fsck over every chunk, against stat'ing every file of the data directories.
      await withClient(c, async (client) => {
        await client.mkdir('/small');
        for (let i = 0; i < SMALL_FILES; i++) await client.writeFile(`/small/${i}`, Buffer.alloc(4096, i % 251));
      });
      await sleep(12_000); // fsck skips chunks under a write lease
      t = performance.now();
      const fsck = JSON.parse(await admin(c, 'fsck', '--json')) as { chunksChecked: number; problems: unknown[] };
      const fsckMs = performance.now() - t;
      expect(fsck.problems).toEqual([]);
      expect(fsck.chunksChecked).toBe(FILES + SMALL_FILES);
      t = performance.now();
      const files = await walk(c.chunkservers.map((cs) => cs.dataDir));
      const walkMs = performance.now() - t;
      say(`fsck: ${fsck.chunksChecked} chunks in ${fsckMs.toFixed(0)} ms; walking ${files} files of the data directories: ${walkMs.toFixed(0)} ms`);

      const rebalanceLocal = await localCopyMs(rebalance.bytesMoved);
      const drainLocal = await localCopyMs(drained);
      rows.push(
        { workload: `1. rebalance ${(rebalance.bytesMoved / MiB).toFixed(0)} MiB onto a new server`, unit: 'MB/s', baselineName: 'local cp+fsync', baseline: mbps(rebalance.bytesMoved, rebalanceLocal), value: mbps(rebalance.bytesMoved, rebalanceMs) },
        { workload: `1. decommission ${(drained / MiB).toFixed(0)} MiB`, unit: 'MB/s', baselineName: 'local cp+fsync', baseline: mbps(drained, drainLocal), value: mbps(drained, drainMs) },
        { workload: `1. fsck of ${fsck.chunksChecked} chunks`, unit: 'ms', baselineName: 'stat every file', baseline: walkMs, value: fsckMs },
      );
      notes.push('1: rebalance and decommission times include the command\'s start and its 1 s polls; fsck includes process start (about 0.3 s)');
    } finally {
      await c.stop();
    }
  });

  it('2. a write with metrics scraped every second vs without metrics', async () => {
    const run = async (metrics: boolean): Promise<number> => {
      const ports = metrics ? await Promise.all([0, 1, 2, 3].map(() => closedPort())) : [];
      const c = await startProcessCluster({
        chunkservers: 3, replication: 2,
        masterArgs: metrics ? ['--metrics-listen', `127.0.0.1:${ports[0]}`] : [],
        chunkserverArgs: (i) => (metrics ? ['--metrics-listen', `127.0.0.1:${ports[i + 1]}`] : []),
      });
      let scraping = metrics;
      let scrapes = 0;
      const scraper = (async () => {
        while (scraping) {
          for (const p of ports) {
            const text = await (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
            expect(text).toContain('fst_rpc_server_handled_total');
            scrapes++;
          }
          await sleep(1_000);
        }
      })();
      try {
        await dropCaches();
        const w = await withClient(c, async (client) => {
          await writeData(client, '/warm-up', 4 * MiB, TOTAL);
          return writeData(client, '/big', TOTAL);
        });
        const r = await withClient(c, (client) => readBack(client, '/big'));
        expect(r.sha).toBe(expectedSha(TOTAL));
        say(`write ${TOTAL / MiB} MiB ${metrics ? `with metrics (${scrapes} scrapes)` : 'without metrics'}: ${mbps(TOTAL, w.ms).toFixed(1)} MB/s`);
        return mbps(TOTAL, w.ms);
      } finally {
        scraping = false;
        await scraper;
        await c.stop();
      }
    };
    const without = await run(false);
    const withMetrics = await run(true);
    rows.push({ workload: `2. write ${TOTAL / MiB} MiB, metrics scraped`, unit: 'MB/s', baselineName: 'no metrics', baseline: without, value: withMetrics });
  });
});
