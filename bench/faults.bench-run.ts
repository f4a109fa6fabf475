/**
 * What fault tolerance costs, each figure against a baseline measured in the same run: a write
 * through FstClient while a chunkserver is killed (vs the same write on a healthy cluster),
 * re-replication after a kill -9 (vs copying as many bytes from one local file to another with
 * fsync), and a cold read while the scrubber runs continuously (vs the scrubber off). Every
 * workload is checked (sha256 of the data read back, chunk counts); nothing asserts on speed.
 * See bench/README.md for what each row means.
 *
 * Run: npm run bench -- bench/faults.bench-run.ts   (FST_BENCH_MIB=128 for a shorter run)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../src/common/ids.js';
import { adminStatus } from '../test/helpers/cli.js';
import { startProcessCluster, type ProcessCluster, type ProcessClusterOptions } from '../test/helpers/process-cluster.js';
import {
  chunksOnDisk, copyWithFsync, countingLogger, expectedSha, IO, mbps, MiB, newestChunkHolder, readBack, waitHealthy, withClient, writeData, writeLocal,
} from './faults/cluster-io.js';
import { dropCaches, sleep } from './mount/system.js';
import { printTable, type BenchRow } from './report.js';

const TOTAL = Number(process.env.FST_BENCH_MIB ?? 512) * MiB;
const REPAIR_TOTAL = 2 * TOTAL;
const REPAIR_FILES = 8;
const SCRUB_TOTAL = TOTAL / 2;
const REPLACE_AFTER_MS = 2000;
const SCRUB_MIB = 64;
const chunksOf = (bytes: number): number => Math.ceil(bytes / CHUNK_SIZE);
const say = (line: string): void => void process.stdout.write(`  ${line}\n`);
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const rows: BenchRow[] = [];
const notes: string[] = [];

/** A fresh cluster (3 chunkservers, replication 2) for `fn`, stopped whatever happens. */
async function onCluster<T>(o: ProcessClusterOptions, fn: (c: ProcessCluster) => Promise<T>): Promise<T> {
  const c = await startProcessCluster({ chunkservers: 3, replication: 2, ...o });
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

/** Bytes the chunkservers' scrubbers verified in the passes still in their log tails. */
const scrubbedBytes = (c: ProcessCluster): number => c.chunkservers
  .flatMap((cs) => cs.process.logTail().split('\n'))
  .reduce((sum, line) => sum + Number(/"msg":"scrub pass done".*"bytes":(\d+)/.exec(line)?.[1] ?? 0), 0);

/** Writes TOTAL bytes to a fresh cluster, killing (kill -9) a chunkserver of the chain being written after a third. */
async function writeRun(fault: boolean): Promise<{ mbps: number; maxCallMs: number }> {
  return onCluster({ masterArgs: ['--lease-ms', '5000', '--replace-after-ms', '600000'] }, async (c) => {
    let victim = -1;
    const kill = async (): Promise<void> => {
      victim = await newestChunkHolder(c);
      await c.chunkservers[victim]!.process.kill();
    };
    // The writer's retries on a new chain: how often the kill hit a chunk being written.
    const retries = countingLogger('retrying on a new chain');
    await dropCaches(); // its sync keeps the last run's dirty pages off this run's clock
    const w = await withClient(c, async (client) => {
      await writeData(client, '/warm-up.bin', 4 * IO, TOTAL); // not timed: the first calls of a fresh client and cluster
      return writeData(client, '/big.bin', TOTAL, 0, fault ? { at: TOTAL / 3, fn: kill } : undefined);
    }, retries.logger);
    const r = await withClient(c, (client) => readBack(client, '/big.bin'));
    expect(r.bytes).toBe(TOTAL);
    expect(r.sha).toBe(expectedSha(TOTAL));
    const st = await adminStatus(c.masterAddress);
    expect(st.chunks).toBe(chunksOf(TOTAL) + 1);
    expect(st.health.missing + st.health.stale).toBe(0);
    expect(st.servers.filter((s) => s.state === 'alive').length).toBe(fault ? 2 : 3);
    if (fault) expect(retries.count()).toBeGreaterThan(0);
    say(`write ${fault ? `kill -9 cs${victim} at 1/3` : 'clean'}: ${mbps(TOTAL, w.ms).toFixed(1)} MB/s, longest write call ${w.maxCallMs.toFixed(0)} ms, close ${w.closeMs.toFixed(0)} ms, ${st.chunks - 1} chunks + 1 warm-up (${st.health.underReplicated} under-replicated), ${retries.count()} chunk writes retried on a new chain, sha256 ok`);
    return { mbps: mbps(TOTAL, w.ms), maxCallMs: w.maxCallMs };
  });
}

/** Writes SCRUB_TOTAL bytes, then reads them back cold; the scrubber reads `rateMib` MiB/s without rest (0: off). */
async function scrubRun(rateMib: number): Promise<{ write: number; read: number; cold: boolean }> {
  const args = ['--scrub-rate-mib', String(rateMib), ...(rateMib > 0 ? ['--scrub-interval-ms', '0'] : [])];
  return onCluster({ chunkserverArgs: () => args }, async (c) => {
    await dropCaches();
    const w = await withClient(c, (client) => writeData(client, '/scrub.bin', SCRUB_TOTAL));
    const cold = await dropCaches();
    const r = await withClient(c, (client) => readBack(client, '/scrub.bin'));
    expect(r.bytes).toBe(SCRUB_TOTAL);
    expect(r.sha).toBe(expectedSha(SCRUB_TOTAL));
    expect((await adminStatus(c.masterAddress)).chunks).toBe(chunksOf(SCRUB_TOTAL));
    const scrubbed = scrubbedBytes(c);
    if (rateMib === 0) expect(scrubbed).toBe(0);
    else expect(scrubbed).toBeGreaterThan(0);
    say(`scrub ${rateMib} MiB/s: write ${mbps(SCRUB_TOTAL, w.ms).toFixed(1)} MB/s, read ${mbps(SCRUB_TOTAL, r.ms).toFixed(1)} MB/s${cold ? '' : ' (cached)'}, scrubbed ${(scrubbed / MiB).toFixed(0)} MiB in logged passes, sha256 ok`);
    return { write: mbps(SCRUB_TOTAL, w.ms), read: mbps(SCRUB_TOTAL, r.ms), cold };
  });
}

describe('fault tolerance costs', () => {
  afterAll(() => {
    printTable('Fault tolerance costs (MB/s = MiB/s; ratio = fst / baseline, both measured in this run)', rows);
    for (const n of [...notes, `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`]) say(n);
  });

  it('1. a write while a chunkserver is killed vs a clean write', async () => {
    const clean = await writeRun(false);
    const faulted = await writeRun(true);
    const mib = TOTAL / MiB;
    rows.push(
      { workload: `1. write ${mib} MiB, kill -9 at 1/3`, unit: 'MB/s', baselineName: 'clean write', baseline: clean.mbps, value: faulted.mbps },
      { workload: '1. longest 8 MiB write call', unit: 'ms', baselineName: 'clean write', baseline: clean.maxCallMs, value: faulted.maxCallMs },
    );
  });

  it('2. re-replication after kill -9 vs a local copy with fsync', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fst-bench-faults-'));
    try {
      const masterArgs = ['--replace-after-ms', String(REPLACE_AFTER_MS), '--replication-interval-ms', '200', '--replication-rate-mib', '1000',
        '--replication-concurrency', '2', '--lease-ms', '2000'];
      const fst = await onCluster({ masterArgs }, async (c) => {
        const per = REPAIR_TOTAL / REPAIR_FILES;
        const chunks = REPAIR_FILES * chunksOf(per);
        await withClient(c, async (client) => {
          for (let i = 0; i < REPAIR_FILES; i++) await writeData(client, `/f${i}`, per, i * per);
        });
        await sleep(15_000); // leases end (a chunk under lease is never re-replicated)
        await waitHealthy(c.masterAddress, chunks, 60_000);
        const before = await chunksOnDisk(c);
        const victim = before.reduce((best, ids, i) => (ids.length > before[best]!.length ? i : best), 0);
        const lost = before[victim]!;
        const st0 = await adminStatus(c.masterAddress);
        const cold = await dropCaches();
        const t0 = performance.now();
        await c.chunkservers[victim]!.process.kill();
        const h = await waitHealthy(c.masterAddress, chunks, 600_000);
        const ms = h.at - t0;
        const bytes = h.status.replication.bytesCopied - st0.replication.bytesCopied;
        expect(h.status.replication.copied - st0.replication.copied).toBe(lost.length);
        const after = await chunksOnDisk(c);
        for (const [i, ids] of after.entries()) if (i !== victim) expect(ids).toEqual(expect.arrayContaining(lost));
        expect(after.filter((_, i) => i !== victim).flat().length).toBe(2 * chunks);
        const firstCopy = h.firstCopyAt === undefined ? 'never seen' : sec(h.firstCopyAt - t0);
        say(`kill -9 cs${victim} (${lost.length} of ${chunks} chunks): healthy after ${sec(ms)}, first copy seen at ${firstCopy}, ` +
          `${(bytes / MiB).toFixed(0)} MiB copied, ${h.polls} status polls (${(ms / h.polls).toFixed(0)} ms each)${cold ? '' : ' (cached)'}`);
        notes.push(`2: ${lost.length} chunks (${(bytes / MiB).toFixed(0)} MiB) re-copied; the copy rate excludes --replace-after-ms (${REPLACE_AFTER_MS} ms) from the time to healthy`);
        return { ms, bytes };
      });
      expect(fst.bytes).toBeGreaterThan(0);
      await writeLocal(join(dir, 'src'), fst.bytes);
      await dropCaches();
      const t = performance.now();
      expect(await copyWithFsync(join(dir, 'src'), join(dir, 'dst'))).toBe(fst.bytes);
      const localMs = performance.now() - t;
      say(`local copy of ${(fst.bytes / MiB).toFixed(0)} MiB with fsync: ${sec(localMs)}`);
      rows.push(
        { workload: `2. re-replication after ${REPLACE_AFTER_MS / 1000} s wait`, unit: 'MB/s', baselineName: 'local cp+fsync', baseline: mbps(fst.bytes, localMs), value: mbps(fst.bytes, fst.ms - REPLACE_AFTER_MS) },
        { workload: '2. kill -9 to every chunk healthy', unit: 's', baselineName: 'local cp+fsync', baseline: localMs / 1000, value: fst.ms / 1000 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('3. a cold read with the scrubber running vs the scrubber off', async () => {
    const off = await scrubRun(0);
    const on = await scrubRun(SCRUB_MIB);
    const mib = SCRUB_TOTAL / MiB;
    const caches = off.cold && on.cold ? '' : ' cached';
    notes.push(`3: scrubbing = every chunkserver's scrubber reading ${SCRUB_MIB} MiB/s with no rest between passes`);
    rows.push(
      { workload: `3. cold read ${mib} MiB, scrubbing`, unit: 'MB/s', baselineName: `scrub off${caches}`, baseline: off.read, value: on.read },
      { workload: `3. write ${mib} MiB, scrubbing`, unit: 'MB/s', baselineName: 'scrub off', baseline: off.write, value: on.write },
    );
  });
});
