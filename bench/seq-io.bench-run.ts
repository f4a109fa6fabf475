/**
 * Sequential write and read of 1 GiB through the client library (1 master + 3 chunkservers as
 * processes, replication 2), against the same workload on a local directory in the same run.
 * Both sides make the data durable before the clock stops (fsync locally; close through FST, which
 * returns once every replica fsynced). Reads on the local side are served from the page cache
 * unless the kernel lets us drop it, which the table says.
 *
 * Run: npm run bench   (FST_BENCH_MIB=256 for a shorter run)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../src/client/fst-client.js';
import { startProcessCluster, type ProcessCluster } from '../test/helpers/process-cluster.js';
import { printTable, type BenchRow } from './report.js';
import { loadCredentialsFor } from '../test/helpers/credentials.js';

const MiB = 1024 * 1024;
const TOTAL = Number(process.env.FST_BENCH_MIB ?? 1024) * MiB;
const IO = 8 * MiB;

async function dropCaches(): Promise<boolean> {
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

const mbps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);

describe('sequential 1 GiB', () => {
  let cluster: ProcessCluster;
  let dir: string;
  const pattern = randomBytes(64 * MiB);
  const piece = (off: number): Buffer => pattern.subarray(off % pattern.length, (off % pattern.length) + IO);

  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    dir = await mkdtemp(join(tmpdir(), 'fst-bench-'));
  });
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('measures write and read MB/s against a local directory', async () => {
    // Local directory baseline.
    let t = performance.now();
    const lf = await open(join(dir, 'local.bin'), 'w');
    for (let off = 0; off < TOTAL; off += IO) await lf.write(piece(off), 0, IO, off);
    await lf.sync();
    await lf.close();
    const localWrite = mbps(TOTAL, performance.now() - t);
    const dropped = await dropCaches();
    t = performance.now();
    const lr = await open(join(dir, 'local.bin'), 'r');
    const buf = Buffer.allocUnsafe(IO);
    for (let off = 0; off < TOTAL; off += IO) await lr.read(buf, 0, IO, off);
    await lr.close();
    const localRead = mbps(TOTAL, performance.now() - t);
    await rm(join(dir, 'local.bin'));

    // FST through the client library.
    const client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
    t = performance.now();
    const fw = await client.open('/bench.bin', { create: true, write: true, truncate: true });
    for (let off = 0; off < TOTAL; off += IO) await fw.write(off, piece(off));
    await fw.close();
    const fstWrite = mbps(TOTAL, performance.now() - t);
    await dropCaches();
    t = performance.now();
    const fr = await client.open('/bench.bin', { read: true });
    let read = 0;
    for (let off = 0; off < TOTAL; off += IO) read += (await fr.read(off, IO)).length;
    await fr.close();
    const fstRead = mbps(TOTAL, performance.now() - t);
    await client.close();
    expect(read).toBe(TOTAL);

    const rows: BenchRow[] = [
      { workload: `seq write ${TOTAL / MiB} MiB (repl 2)`, unit: 'MB/s', baselineName: 'local dir', baseline: localWrite, value: fstWrite },
      { workload: `seq read ${TOTAL / MiB} MiB`, unit: 'MB/s', baselineName: dropped ? 'local (cold)' : 'local (cached)', baseline: localRead, value: fstRead },
    ];
    printTable('FST client library, sequential I/O (MB/s = MiB/s)', rows);
  });
});
