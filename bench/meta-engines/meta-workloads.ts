/**
 * The metadata workloads of the engines benchmark, driven through MetaClients straight at a master
 * (no FUSE, no VFS, no caches): creates (Mknod O_EXCL spread over a few directories), stat
 * (GetAttr) and lookup of the files made, and renames of every file into the next directory. Each
 * checks its answers; the rates are ops/s over the whole batch with `inFlight` calls at once.
 */
import type { MetaClient } from '../../src/client/meta-client.js';
import { fst } from '../../src/client/types.js';
import { Rng } from '../../test/fuse/differential/rng.js';
import { concurrentThroughput } from '../master-scale/sampling.js';

const ROOT = 1;

export interface MetaRates {
  create: number;
  createOneAtATime: number;
  getattr: number;
  lookup: number;
  rename: number;
}

export interface MetaWorkloadOptions {
  /** Files created (and renamed) per round. */
  files: number;
  /** Directories they are spread over. */
  dirs: number;
  inFlight: number;
  /** Files created one call at a time (latency-bound), on top of `files`. */
  sequentialFiles: number;
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

  const create = await concurrentThroughput(async (i) => {
    const r = await pick(i).mknod(dirOf(i), `f${i}`, 0o644, { exclusive: true });
    if (!r.created || r.attr.type !== fst.FileType.REGULAR || r.parentAttr?.ino !== dirOf(i)) throw new Error(`mknod f${i} answered ${JSON.stringify(r)}`);
    inos[i] = r.attr.ino;
  }, o.files, o.inFlight);

  const rng = new Rng(7);
  const getattr = await concurrentThroughput(async (i) => {
    const k = rng.int(0, o.files - 1);
    const a = await pick(i).getAttr(inos[k]!);
    if (a.ino !== inos[k] || a.type !== fst.FileType.REGULAR) throw new Error(`getattr of f${k} answered inode ${a.ino}`);
  }, 2 * o.files, o.inFlight);

  const lookup = await concurrentThroughput(async (i) => {
    const k = rng.int(0, o.files - 1);
    const a = await pick(i).lookup(dirOf(k), `f${k}`);
    if (a.ino !== inos[k]) throw new Error(`lookup of f${k} answered inode ${a.ino}`);
  }, 2 * o.files, o.inFlight);

  // Every file moves to the next directory under a new name (two directories change per call).
  const rename = await concurrentThroughput(async (i) => {
    const r = await pick(i).rename(dirOf(i), `f${i}`, dirOf(i + 1), `g${i}`, true);
    if (r.replaced || r.newParentAttr?.ino !== dirOf(i + 1)) throw new Error(`rename of f${i} answered ${JSON.stringify(r)}`);
  }, o.files, o.inFlight);
  for (let k = 0; k < o.files; k += Math.max(1, Math.floor(o.files / 50))) {
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
