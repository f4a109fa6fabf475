/**
 * The mount benchmark's workloads. Each runs on one target and returns its figure; each checks
 * that it did its work (bytes, contents, file counts) and throws if not, but nothing here judges
 * speed. Read workloads start with cold kernel caches (sync + drop_caches); write workloads start
 * after a syncfs and end with one inside the timing, so every target's bytes are on disk when the
 * clock stops (fst-mount sends and commits each file at close; local and bindfs write at the syncfs).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceTree } from './source-tree.js';
import { warmSourceTree } from './source-tree.js';
import { Rng } from '../../test/fuse/differential/rng.js';
import { countTree, q, sh, syncfs } from './system.js';
import type { Target } from './targets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SMALL = 4 * KiB;

export interface BenchParams {
  /** Size of the big file. */
  bytes: number;
  /** Small files created (and stat'ed). */
  files: number;
  /** 4 KiB random reads, and how many are in flight. */
  randomReads: number;
  randomDepth: number;
  tree: SourceTree;
}

export interface Workload {
  id: string;
  /** Row number in the table (as numbered in bench/README.md); the table is in this order. */
  order: number;
  /** Row title in the table. */
  title: (p: BenchParams) => string;
  unit: 'MB/s' | 'IOPS' | 'files/s' | 'ops/s' | 's';
  /** Whether the kernel caches are dropped first. */
  cold: boolean;
  /** Workloads whose results this one uses (run first even when not asked for). */
  needs: string[];
  run: (t: Target, p: BenchParams) => Promise<number>;
}

/** 64 MiB of random bytes; the big file is this pattern repeated, so any read can be checked. */
const PATTERN = randomBytes(64 * MiB);
const expected = (off: number, len: number): Buffer => PATTERN.subarray(off % PATTERN.length, (off % PATTERN.length) + len);
const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const bigFile = (t: Target): string => join(t.dir, 'big.bin');
const smallDir = (t: Target): string => join(t.dir, 'small');
const smallName = (i: number): string => `f${String(i).padStart(6, '0')}`;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`workload did not do its work: ${what}`);
}

async function seqWrite(t: Target, p: BenchParams): Promise<number> {
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

async function seqRead(t: Target, p: BenchParams): Promise<number> {
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

async function randomRead(t: Target, p: BenchParams): Promise<number> {
  const rand = new Rng(42);
  const blocks = Math.floor(p.bytes / SMALL);
  const offsets = Array.from({ length: p.randomReads }, () => Math.floor(rand.float() * blocks) * SMALL);
  let next = 0;
  let good = 0;
  const t0 = performance.now();
  const fh = await open(bigFile(t), 'r');
  const worker = async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(SMALL);
    for (let i = next++; i < offsets.length; i = next++) {
      const off = offsets[i]!;
      const { bytesRead } = await fh.read(buf, 0, SMALL, off);
      if (bytesRead === SMALL && buf.equals(expected(off, SMALL))) good++;
    }
  };
  await Promise.all(Array.from({ length: p.randomDepth }, worker));
  await fh.close();
  const s = seconds(t0);
  check(good === offsets.length, `${offsets.length} random reads returned the right 4 KiB (${good} did)`);
  return offsets.length / s;
}

async function createFiles(t: Target, p: BenchParams): Promise<number> {
  await mkdir(smallDir(t));
  await syncfs(t.backing);
  const t0 = performance.now();
  for (let i = 0; i < p.files; i++) {
    const fh = await open(join(smallDir(t), smallName(i)), 'wx');
    await fh.write(expected(i * SMALL, SMALL), 0, SMALL, 0);
    await fh.close();
  }
  await syncfs(t.backing);
  const s = seconds(t0);
  check((await readdir(smallDir(t))).length === p.files, `${p.files} files in ${smallDir(t)}`);
  return p.files / s;
}

async function statFiles(t: Target, p: BenchParams): Promise<number> {
  let good = 0;
  const t0 = performance.now();
  for (let i = 0; i < p.files; i++) if ((await lstat(join(smallDir(t), smallName(i)))).size === SMALL) good++;
  const s = seconds(t0);
  check(good === p.files, `${p.files} stats saw 4 KiB files (${good} did)`);
  return p.files / s;
}

/** Times a shell command that changes the target, with a syncfs before and (timed) after. */
async function timedChange(t: Target, cmd: string): Promise<number> {
  await syncfs(t.backing);
  const t0 = performance.now();
  await sh(cmd);
  await syncfs(t.backing);
  return seconds(t0);
}

async function checkCopy(dir: string, tree: SourceTree): Promise<void> {
  const c = await countTree(dir);
  check(c.files === tree.files && c.bytes === tree.bytes, `${dir} holds ${tree.files} files / ${tree.bytes} bytes (has ${c.files} / ${c.bytes})`);
}

async function cpTree(t: Target, p: BenchParams): Promise<number> {
  await warmSourceTree(p.tree);
  const s = await timedChange(t, `cp -r ${q(p.tree.dir)} ${q(join(t.dir, 'cp'))}`);
  await checkCopy(join(t.dir, 'cp'), p.tree);
  return s;
}

async function lsTree(t: Target, p: BenchParams): Promise<number> {
  const t0 = performance.now();
  const lines = Number((await sh(`ls -lR ${q(join(t.dir, 'cp'))} | wc -l`)).trim());
  const s = seconds(t0);
  check(lines >= p.tree.files + p.tree.dirs, `ls -lR listed ${p.tree.files} files and ${p.tree.dirs} dirs (${lines} lines)`);
  return s;
}

async function untarTree(t: Target, p: BenchParams): Promise<number> {
  await warmSourceTree(p.tree);
  await mkdir(join(t.dir, 'untar'));
  const s = await timedChange(t, `tar xf ${q(p.tree.tarball)} -C ${q(join(t.dir, 'untar'))}`);
  await checkCopy(join(t.dir, 'untar', 'tree'), p.tree);
  return s;
}

async function rmTree(t: Target): Promise<number> {
  const s = await timedChange(t, `rm -rf ${q(join(t.dir, 'cp'))}`);
  check(!existsSync(join(t.dir, 'cp')), `${join(t.dir, 'cp')} is gone`);
  return s;
}

const mib = (p: BenchParams): string => `${p.bytes / MiB} MiB`;

/** In the order they run (cp -r makes the tree that ls -lR lists); `order` is the table's. */
export const WORKLOADS: Workload[] = [
  { id: 'seq-write', order: 1, title: (p) => `seq write ${mib(p)} (1 MiB, fsync)`, unit: 'MB/s', cold: false, needs: [], run: seqWrite },
  { id: 'seq-read', order: 2, title: (p) => `seq read ${mib(p)} (1 MiB)`, unit: 'MB/s', cold: true, needs: ['seq-write'], run: seqRead },
  { id: 'rand-read', order: 3, title: (p) => `4K random read (${p.randomReads / 1000}k, QD${p.randomDepth})`, unit: 'IOPS', cold: true, needs: ['seq-write'], run: randomRead },
  { id: 'create', order: 4, title: (p) => `create+write+close ${p.files} x 4K`, unit: 'files/s', cold: false, needs: [], run: createFiles },
  { id: 'stat', order: 5, title: (p) => `stat ${p.files} files`, unit: 'ops/s', cold: true, needs: ['create'], run: statFiles },
  { id: 'cp-r', order: 7, title: () => 'cp -r tree', unit: 's', cold: false, needs: [], run: cpTree },
  { id: 'ls-lR', order: 6, title: () => 'ls -lR tree', unit: 's', cold: true, needs: ['cp-r'], run: lsTree },
  { id: 'untar', order: 8, title: () => 'tar xf tree.tar', unit: 's', cold: false, needs: [], run: untarTree },
  { id: 'rm-rf', order: 9, title: () => 'rm -rf tree (the cp -r copy)', unit: 's', cold: false, needs: ['cp-r'], run: rmTree },
];

/** The workloads to run for a list of ids (with what they need), in running order. */
export function selectWorkloads(only: string[] | undefined): Workload[] {
  if (!only || only.length === 0) return WORKLOADS;
  const unknown = only.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown.length) throw new Error(`unknown workload ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.id).join(', ')}`);
  const want = new Set<string>();
  const add = (id: string): void => {
    if (want.has(id)) return;
    want.add(id);
    for (const n of WORKLOADS.find((w) => w.id === id)!.needs) add(n);
  };
  only.forEach(add);
  return WORKLOADS.filter((w) => want.has(w.id));
}
