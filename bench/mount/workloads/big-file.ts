/**
 * One big file: a sequential write with 1 MiB calls ending in fsync, a cold sequential read of it
 * and the same read again at once (warm: what the kernel kept), and cold 4 KiB random reads at
 * seeded offsets (the same on every target) by one reader and by four at once. Then four writers
 * at once, each its own file of a quarter of the size.
 */
import { open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Rng } from '../../../test/fuse/differential/rng.js';
import { syncfs } from '../system.js';
import type { Target } from '../targets.js';
import { check, expected, MiB, seconds, SMALL, type BenchParams } from './common.js';

const bigFile = (t: Target): string => join(t.dir, 'big.bin');

export async function seqWrite(t: Target, p: BenchParams): Promise<number> {
  await syncfs(t.backing);
  const t0 = performance.now();
  const fh = await open(bigFile(t), 'w');
  for (let off = 0; off < p.bytes; off += MiB) await fh.write(expected(off, MiB), 0, MiB, off);
  await fh.sync();
  await fh.close();
  const s = seconds(t0);
  check((await stat(bigFile(t))).size === p.bytes, `${bigFile(t)} has ${p.bytes} bytes`);
  return p.bytes / MiB / s;
}

export async function seqRead(t: Target, p: BenchParams): Promise<number> {
  const buf = Buffer.allocUnsafe(MiB);
  let total = 0;
  let good = true;
  const t0 = performance.now();
  const fh = await open(bigFile(t), 'r');
  for (let off = 0; off < p.bytes; off += MiB) {
    const { bytesRead } = await fh.read(buf, 0, MiB, off);
    total += bytesRead;
    // Spot checks (first and last 4 KiB of each MiB) keep the comparison out of the figure.
    good &&= bytesRead === MiB && buf.subarray(0, SMALL).equals(expected(off, SMALL)) && buf.subarray(MiB - SMALL).equals(expected(off + MiB - SMALL, SMALL));
  }
  await fh.close();
  const s = seconds(t0);
  check(total === p.bytes && good, `read back ${p.bytes} bytes as written (got ${total}, contents ${good ? 'ok' : 'wrong'})`);
  return p.bytes / MiB / s;
}

/**
 * `jobs` readers at once, each with its own descriptor and one read in flight (fio's numjobs), taking
 * the seeded offsets in turn.
 */
async function randomReads(t: Target, p: BenchParams, jobs: number): Promise<number> {
  const rand = new Rng(42);
  const blocks = Math.floor(p.bytes / SMALL);
  const offsets = Array.from({ length: p.randomReads }, () => Math.floor(rand.float() * blocks) * SMALL);
  let next = 0;
  let good = 0;
  const t0 = performance.now();
  const job = async (): Promise<void> => {
    const fh = await open(bigFile(t), 'r');
    const buf = Buffer.allocUnsafe(SMALL);
    for (let i = next++; i < offsets.length; i = next++) {
      const off = offsets[i]!;
      const { bytesRead } = await fh.read(buf, 0, SMALL, off);
      if (bytesRead === SMALL && buf.equals(expected(off, SMALL))) good++;
    }
    await fh.close();
  };
  await Promise.all(Array.from({ length: jobs }, job));
  const s = seconds(t0);
  check(good === offsets.length, `${offsets.length} random reads returned the right 4 KiB (${good} did)`);
  return offsets.length / s;
}

export const randomRead = (t: Target, p: BenchParams): Promise<number> => randomReads(t, p, 1);
export const randomRead4 = (t: Target, p: BenchParams): Promise<number> => randomReads(t, p, 4);

/** Four writers at once, each writing its own file (a quarter of the size) in 1 MiB calls and fsyncing it. */
export async function seqWrite4(t: Target, p: BenchParams): Promise<number> {
  const quarter = Math.floor(p.bytes / 4 / MiB) * MiB;
  const file = (i: number): string => join(t.dir, `big-${i}.bin`);
  await syncfs(t.backing);
  const t0 = performance.now();
  await Promise.all([0, 1, 2, 3].map(async (i) => {
    const fh = await open(file(i), 'w');
    for (let off = 0; off < quarter; off += MiB) await fh.write(expected(off + i * MiB, MiB), 0, MiB, off);
    await fh.sync();
    await fh.close();
  }));
  const s = seconds(t0);
  for (const i of [0, 1, 2, 3]) check((await stat(file(i))).size === quarter, `${file(i)} has ${quarter} bytes`);
  for (const i of [0, 1, 2, 3]) await rm(file(i));
  return (4 * quarter) / MiB / s;
}
