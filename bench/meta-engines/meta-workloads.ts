/**
 * The metadata workloads of the engines benchmark, driven through MetaClients straight at a master
 * (no FUSE, no VFS, no caches): creates (Mknod O_EXCL spread over a few directories), stat
 * (GetAttr) and lookup of the files made, and renames of every file into the next directory. Each
 * checks its answers; the rates are ops/s with `inFlight` calls at once, each workload run for a
 * set time (the renames: as many as files were created).
 */
import type { MetaClient } from '../../src/client/meta-client.js';
import { fst } from '../../src/client/types.js';
import { Rng } from '../../test/fuse/differential/rng.js';

const ROOT = 1;

export interface MetaRates {
  create: number;
  createOneAtATime: number;
  getattr: number;
  lookup: number;
  rename: number;
}

export interface MetaWorkloadOptions {
  /** Seconds each workload runs (creates: at most `files`). */
  seconds: number;
  /** The most files created (and renamed) per round. */
  files: number;
  /** Directories they are spread over. */
  dirs: number;
  inFlight: number;
  /** Files created one call at a time (latency-bound), on top of `files`. */
  sequentialFiles: number;
}

/**
 * Calls `op(0)`, `op(1)`... with `inFlight` at once until `seconds` have passed or `max` calls
 * started; answers how many ran and the rate. Timed rather than counted, so that a fast engine's
 * figure is not a fraction of a second's sample on a noisy machine.
 */
async function forDuration(op: (i: number) => Promise<void>, seconds: number, inFlight: number, max = Infinity): Promise<{ count: number; opsPerSec: number }> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < max && performance.now() < end) await op(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { count: next, opsPerSec: next / ((performance.now() - t0) / 1000) };
}

/** Runs every workload once in a fresh directory `/<tag>`; answers ops/s per workload. */
export async function runMetaWorkloads(clients: MetaClient[], tag: string, o: MetaWorkloadOptions): Promise<MetaRates> {
  const first = clients[0]!;
  const pick = (i: number): MetaClient => clients[i % clients.length]!;
  const top = (await first.mkdir(ROOT, tag, 0o755)).attr.ino;
  const dirs: number[] = [];
  for (let d = 0; d < o.dirs; d++) dirs.push((await first.mkdir(top, `d${d}`, 0o755)).attr.ino);
  const dirOf = (i: number): number => dirs[i % o.dirs]!;
  const inos = new Float64Array(o.files);

  const create = await forDuration(async (i) => {
    const r = await pick(i).mknod(dirOf(i), `f${i}`, 0o644, { exclusive: true });
    if (!r.created || r.attr.type !== fst.FileType.REGULAR || r.parentAttr?.ino !== dirOf(i)) throw new Error(`mknod f${i} answered ${JSON.stringify(r)}`);
    inos[i] = r.attr.ino;
  }, o.seconds, o.inFlight, o.files);
  const files = create.count;

  const rng = new Rng(7);
  const getattr = await forDuration(async (i) => {
    const k = rng.int(0, files - 1);
    const a = await pick(i).getAttr(inos[k]!);
    if (a.ino !== inos[k] || a.type !== fst.FileType.REGULAR) throw new Error(`getattr of f${k} answered inode ${a.ino}`);
  }, o.seconds, o.inFlight);

  const lookup = await forDuration(async (i) => {
    const k = rng.int(0, files - 1);
    const a = await pick(i).lookup(dirOf(k), `f${k}`);
    if (a.ino !== inos[k]) throw new Error(`lookup of f${k} answered inode ${a.ino}`);
  }, o.seconds, o.inFlight);

  // Every file moves to the next directory under a new name (two directories change per call).
  const rename = await forDuration(async (i) => {
    const r = await pick(i).rename(dirOf(i), `f${i}`, dirOf(i + 1), `g${i}`, true);
    if (r.replaced || r.newParentAttr?.ino !== dirOf(i + 1)) throw new Error(`rename of f${i} answered ${JSON.stringify(r)}`);
  }, Infinity, o.inFlight, files);
  for (let k = 0; k < files; k += Math.max(1, Math.floor(files / 50))) {
    const a = await first.lookup(dirOf(k + 1), `g${k}`);
    if (a.ino !== inos[k]) throw new Error(`after rename, g${k} is inode ${a.ino}, not ${inos[k]}`);
  }

  const seqDir = (await first.mkdir(top, 'seq', 0o755)).attr.ino;
  const t0 = performance.now();
  for (let i = 0; i < o.sequentialFiles; i++) {
    const r = await first.mknod(seqDir, `s${i}`, 0o644, { exclusive: true });
    if (!r.created) throw new Error(`mknod s${i} answered created=false`);
  }
  const createOneAtATime = o.sequentialFiles / ((performance.now() - t0) / 1000);

  return { create: create.opsPerSec, createOneAtATime, getattr: getattr.opsPerSec, lookup: lookup.opsPerSec, rename: rename.opsPerSec };
}
