/**
 * The mount benchmark's workloads, in the order they run (which is the table's; row numbers are
 * positions in this list, the same whatever runs), the groups `FST_BENCH_ONLY` accepts beside
 * workload ids, and the selection of what to run. Each workload (workloads/*.ts) runs on one
 * target and returns its figure; it checks that it did its work (bytes, contents, counts) and
 * throws if not, but nothing judges speed. Cold workloads start with sync + drop_caches (done by
 * the caller); workloads that change the target start after a syncfs and end with one inside the
 * timing, so every target's bytes are on disk when the clock stops.
 */
import { randomRead, randomRead4, seqRead, seqWrite, seqWrite4 } from './workloads/big-file.js';
import { MiB, type BenchParams, type Workload } from './workloads/common.js';
import { chmods, mkdirs, renames, rmdirs, symlinks, unlinks, utimens } from './workloads/metadata.js';
import { createFiles, createFilesFsync, readFiles, statFiles } from './workloads/small-files.js';
import { cpTree, duTree, findTree, lsTree, rmTree, untarTree } from './workloads/tree.js';

export type { BenchParams, Workload } from './workloads/common.js';

const mib = (p: BenchParams): string => `${p.bytes / MiB} MiB`;
const n = (p: BenchParams): string => `${p.files}`;

/**
 * The cold walks of the copied tree take a fraction of a second each: one run is mostly noise, and
 * five left a median that moved by 20% between runs (single `find`s of fst-mount took 0.09-0.18 s
 * in one run, MooseFS's 0.11-0.12 s).
 */
const TREE_READ_ROUNDS = 9;

export const WORKLOADS: Workload[] = [
  { id: 'seq-write', title: (p) => `seq write ${mib(p)} (1 MiB, fsync)`, unit: 'MB/s', cold: false, needs: [], run: seqWrite, bytes: (p) => p.bytes },
  { id: 'seq-read', title: (p) => `seq read ${mib(p)} (1 MiB)`, unit: 'MB/s', cold: true, needs: ['seq-write'], run: seqRead, bytes: (p) => p.bytes },
  { id: 'seq-read-warm', title: (p) => `seq read ${mib(p)} again at once`, unit: 'MB/s', cold: false, needs: ['seq-read'], follows: 'seq-read', run: seqRead, bytes: (p) => p.bytes },
  { id: 'rand-read', title: (p) => `4K random read (${p.randomReads / 1000}k, 1 job)`, unit: 'IOPS', cold: true, needs: ['seq-write'], run: randomRead },
  { id: 'rand-read-4', title: (p) => `4K random read (${p.randomReads / 1000}k, 4 jobs)`, unit: 'IOPS', cold: true, needs: ['seq-write'], run: randomRead4 },
  { id: 'seq-write-4', title: (p) => `seq write 4 x ${p.bytes / 4 / MiB} MiB at once (fsync)`, unit: 'MB/s', cold: false, needs: [], run: seqWrite4, bytes: (p) => p.bytes },
  { id: 'create', title: (p) => `create+write+close ${n(p)} x 4K`, unit: 'files/s', cold: false, needs: [], run: createFiles },
  { id: 'create-fsync', title: (p) => `create+write+fsync+close ${n(p)} x 4K`, unit: 'files/s', cold: false, needs: [], run: createFilesFsync },
  { id: 'read-small', title: (p) => `open+read+close ${n(p)} x 4K`, unit: 'files/s', cold: true, needs: ['create'], run: readFiles },
  { id: 'stat', title: (p) => `lstat ${n(p)} files`, unit: 'ops/s', cold: true, needs: ['create'], run: statFiles },
  { id: 'cp-r', title: () => 'cp -r tree', unit: 's', cold: false, needs: [], run: cpTree },
  { id: 'ls-lR', title: () => `${'ls -lR tree'} (median of ${TREE_READ_ROUNDS})`, unit: 's', cold: true, needs: ['cp-r'], rounds: TREE_READ_ROUNDS, run: lsTree },
  { id: 'find', title: () => `${'find tree'} (median of ${TREE_READ_ROUNDS})`, unit: 's', cold: true, needs: ['cp-r'], rounds: TREE_READ_ROUNDS, run: findTree },
  { id: 'du', title: () => `${'du -s tree'} (median of ${TREE_READ_ROUNDS})`, unit: 's', cold: true, needs: ['cp-r'], rounds: TREE_READ_ROUNDS, run: duTree },
  { id: 'untar', title: () => 'tar xf tree.tar', unit: 's', cold: false, needs: [], run: untarTree },
  { id: 'rm-rf', title: () => 'rm -rf tree (the cp -r copy)', unit: 's', cold: false, needs: ['cp-r'], run: rmTree },
  { id: 'mkdir', title: (p) => `mkdir ${n(p)}`, unit: 'ops/s', cold: false, needs: [], run: mkdirs },
  { id: 'symlink', title: (p) => `symlink ${n(p)}`, unit: 'ops/s', cold: false, needs: [], run: symlinks },
  { id: 'chmod', title: (p) => `chmod ${n(p)} files`, unit: 'ops/s', cold: false, needs: [], run: chmods },
  { id: 'utimens', title: (p) => `utimens ${n(p)} files`, unit: 'ops/s', cold: false, needs: [], run: utimens },
  { id: 'rename', title: (p) => `rename ${n(p)} files (same dir)`, unit: 'ops/s', cold: false, needs: [], run: renames },
  { id: 'unlink', title: (p) => `unlink ${n(p)} files`, unit: 'ops/s', cold: false, needs: ['rename'], run: unlinks },
  { id: 'rmdir', title: (p) => `rmdir ${n(p)}`, unit: 'ops/s', cold: false, needs: ['mkdir'], run: rmdirs },
];

/** Names for sets of workloads, usable in FST_BENCH_ONLY beside ids (`FST_BENCH_ONLY=small,meta`). */
export const GROUPS: Record<string, string[]> = {
  big: ['seq-write', 'seq-read', 'seq-read-warm', 'rand-read', 'rand-read-4', 'seq-write-4'],
  small: ['create', 'create-fsync', 'read-small', 'stat'],
  tree: ['cp-r', 'ls-lR', 'find', 'du', 'untar', 'rm-rf'],
  meta: ['mkdir', 'symlink', 'chmod', 'utimens', 'rename', 'unlink', 'rmdir'],
};
/** The small-file and metadata rows: everything but the big file. */
GROUPS['small-meta'] = [...GROUPS.small!, ...GROUPS.tree!, ...GROUPS.meta!];

/** The row number of a workload (its position in WORKLOADS, from 1). */
export const rowNumber = (w: Workload): number => WORKLOADS.indexOf(w) + 1;

/** The workloads to run for a list of ids and group names (with what they need), in running order. */
export function selectWorkloads(only: string[] | undefined): Workload[] {
  if (!only || only.length === 0) return WORKLOADS;
  const ids = only.flatMap((id) => GROUPS[id] ?? [id]);
  const unknown = ids.filter((id) => !WORKLOADS.some((w) => w.id === id));
  if (unknown.length) {
    throw new Error(`unknown workload ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.id).join(', ')}; groups: ${Object.keys(GROUPS).join(', ')}`);
  }
  const want = new Set<string>();
  const add = (id: string): void => {
    if (want.has(id)) return;
    want.add(id);
    for (const need of WORKLOADS.find((w) => w.id === id)!.needs) add(need);
  };
  ids.forEach(add);
  return WORKLOADS.filter((w) => want.has(w.id));
}
