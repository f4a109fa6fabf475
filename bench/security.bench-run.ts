/**
 * What security costs: the same workloads on two clusters started side by side, one as shipped
 * (TLS on every port, credentials checked on every call, chunk tokens signed and checked) and one
 * with `fst-master --insecure` (plaintext, nothing checked). Each has 1 master + 3 chunkservers as
 * processes, replication 2. Rounds alternate between the two so that both see the same machine;
 * the table gives each workload's median and the ratio secure/insecure (above 1: secure faster).
 *
 * - sequential write and read of 1 GiB through the client library (durable at close; caches
 *   dropped before the read when the kernel lets us);
 * - small-file creates through a FUSE mount of each cluster: 4 KiB files written whole.
 *
 * Run: npm run bench -- bench/security.bench-run.ts
 *      (FST_BENCH_MIB=256 for a shorter run, FST_BENCH_ROUNDS=3 by default, FST_BENCH_FILES=1000)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../src/client/fst-client.js';
import { readCredentials } from '../src/common/security/credentials-file.js';
import { FuseMount } from '../test/helpers/fuse-mount.js';
import { startProcessCluster, type ProcessCluster } from '../test/helpers/process-cluster.js';
import { printTable, type BenchRow } from './report.js';

const MiB = 1024 * 1024;
const TOTAL = Number(process.env.FST_BENCH_MIB ?? 1024) * MiB;
const ROUNDS = Number(process.env.FST_BENCH_ROUNDS ?? 3);
const FILES = Number(process.env.FST_BENCH_FILES ?? 1000);
const IO = 8 * MiB;

async function dropCaches(): Promise<void> {
  await writeFile('/proc/sys/vm/drop_caches', '3').catch(() => undefined);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface Target {
  name: 'secure' | 'insecure';
  cluster: ProcessCluster;
  mount: FuseMount;
  client: FstClient;
  results: { write: number[]; read: number[]; creates: number[] };
}

describe('the cost of TLS, credentials and chunk tokens', () => {
  const targets: Target[] = [];
  const pattern = randomBytes(64 * MiB);
  const piece = (off: number): Buffer => pattern.subarray(off % pattern.length, (off % pattern.length) + IO);

  beforeAll(async () => {
    for (const name of ['secure', 'insecure'] as const) {
      const cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: name === 'insecure' ? ['--insecure'] : [] });
      const credentials = name === 'secure' ? await readCredentials(cluster.credentials) : undefined;
      const client = new FstClient({ master: cluster.masterAddress, credentials });
      await client.connect();
      const mount = await FuseMount.start(cluster.masterAddress);
      targets.push({ name, cluster, mount, client, results: { write: [], read: [], creates: [] } });
    }
  });
  afterAll(async () => {
    for (const t of targets) {
      await t.client.close().catch(() => undefined);
      await t.mount.stop();
      await t.cluster.stop();
    }
  });

  async function seqWrite(t: Target, path: string): Promise<number> {
    const t0 = performance.now();
    const f = await t.client.open(path, { create: true, write: true, truncate: true });
    for (let off = 0; off < TOTAL; off += IO) await f.write(off, piece(off));
    await f.close();
    return TOTAL / MiB / ((performance.now() - t0) / 1000);
  }

  async function seqRead(t: Target, path: string): Promise<number> {
    await dropCaches();
    const t0 = performance.now();
    const f = await t.client.open(path, { read: true });
    let read = 0;
    for (let off = 0; off < TOTAL; off += IO) read += (await f.read(off, IO)).length;
    await f.close();
    expect(read).toBe(TOTAL);
    return TOTAL / MiB / ((performance.now() - t0) / 1000);
  }

  async function creates(t: Target, round: number): Promise<number> {
    const dir = t.mount.path(`small-${round}`);
    await mkdir(dir);
    const data = Buffer.alloc(4096, 5);
    const t0 = performance.now();
    for (let i = 0; i < FILES; i++) await writeFile(join(dir, `f${i}`), data);
    return FILES / ((performance.now() - t0) / 1000);
  }

  it('measures secure against insecure in alternating rounds', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so that neither always follows the other's leftovers.
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) t.results.write.push(await seqWrite(t, `/seq-${round}.bin`));
      for (const t of order) t.results.read.push(await seqRead(t, `/seq-${round}.bin`));
      for (const t of order) await t.client.rm(`/seq-${round}.bin`);
      for (const t of order) t.results.creates.push(await creates(t, round));
    }
    const [secure, insecure] = [targets.find((t) => t.name === 'secure')!, targets.find((t) => t.name === 'insecure')!];
    const row = (workload: string, unit: string, pick: (t: Target) => number[]): BenchRow => ({
      workload, unit, baselineName: 'insecure', baseline: median(pick(insecure)), value: median(pick(secure)),
    });
    printTable(`secure vs --insecure, median of ${ROUNDS} rounds (fst column: secure)`, [
      row(`seq write ${TOTAL / MiB} MiB (repl 2)`, 'MB/s', (t) => t.results.write),
      row(`seq read ${TOTAL / MiB} MiB`, 'MB/s', (t) => t.results.read),
      row(`creates of 4 KiB files (mount)`, 'files/s', (t) => t.results.creates),
    ]);
    for (const t of targets) process.stdout.write(`${t.name}: ${JSON.stringify(t.results)}\n`);
  });
});
