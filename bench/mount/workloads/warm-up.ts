/**
 * A warm-up before the first timed row of each group, once per target: a few thousand operations
 * of every kind the group times, in a scratch directory removed afterwards, untimed. Daemons run
 * for weeks; what a user meets is their steady state, not the first seconds after a start (Node's
 * just-in-time compiler needs some thousand calls of a path before it runs at speed, and SQLite
 * its first statements prepared). Every target gets the same warm-up.
 */
import { chmod, mkdir, open, readFile, rename, rm, rmdir, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { dropCaches, q, sh } from '../system.js';
import type { Target } from '../targets.js';
import { entryName, expected, ROUND_GAP_MS, SMALL, type BenchParams } from './common.js';

/**
 * Operations of each kind in a warm-up (FST_BENCH_WARM_UP): fst-mount and fst-master reach their
 * steady speed on a path after a few thousand calls of it (measured: mkdir at 2,100/s in the first
 * 2,000 after a start, 3,500/s from the 4,000th on).
 */
export const WARM_UP_OPS = Number(process.env.FST_BENCH_WARM_UP ?? 5000);

const done = new Set<string>();

async function metadata(dir: string): Promise<void> {
  const n = (p: string, i: number): string => join(dir, entryName(p, i));
  for (let i = 0; i < WARM_UP_OPS; i++) await mkdir(n('d', i));
  for (let i = 0; i < WARM_UP_OPS; i++) await symlink(entryName('f', i), n('l', i));
  for (let i = 0; i < WARM_UP_OPS; i++) await (await open(n('f', i), 'wx')).close();
  for (let i = 0; i < WARM_UP_OPS; i++) await chmod(n('f', i), 0o640);
  for (let i = 0; i < WARM_UP_OPS; i++) await utimes(n('f', i), 1, 1);
  for (let i = 0; i < WARM_UP_OPS; i++) await rename(n('f', i), n('r', i));
  for (let i = 0; i < WARM_UP_OPS; i++) await unlink(n('r', i));
  for (let i = 0; i < WARM_UP_OPS; i++) await rmdir(n('d', i));
}

async function smallFiles(dir: string): Promise<void> {
  for (const fsync of [false, true]) {
    for (let i = 0; i < WARM_UP_OPS; i++) {
      const fh = await open(join(dir, entryName(fsync ? 's' : 'f', i)), 'wx');
      await fh.write(expected(i * SMALL, SMALL), 0, SMALL, 0);
      if (fsync) await fh.sync();
      await fh.close();
    }
  }
  for (let i = 0; i < WARM_UP_OPS; i++) {
    await readFile(join(dir, entryName('f', i)));
    await stat(join(dir, entryName('f', i)));
  }
}

/**
 * Cold walks of a tree, each as the timed ones run it (caches dropped, the client's own expired):
 * a walk of the bench tree sends about 160 directory reads, and fst-mount's listing path runs at
 * its steady speed after some thousands (measured on a fresh mount: cold `find` at a median of
 * 108 ms over its first 12 walks, 85-90 ms from the 40th on).
 */
const TREE_WALKS = 30;

async function tree(dir: string, p: BenchParams): Promise<void> {
  await sh(`cp -r ${q(p.tree.dir)} ${q(join(dir, 'tree'))}`);
  const walks = [`find ${q(dir)}`, `ls -lR ${q(dir)}`, `du -s ${q(dir)}`];
  for (let i = 0; i < TREE_WALKS; i++) {
    await new Promise((r) => setTimeout(r, ROUND_GAP_MS));
    await dropCaches();
    await sh(`${walks[i % walks.length]!} > /dev/null`);
  }
}

const groups: Record<'metadata' | 'smallFiles' | 'tree', (dir: string, p: BenchParams) => Promise<void>> = { metadata, smallFiles, tree };

/** Runs the warm-up of `group` on `t`, once. */
export async function warmUp(t: Target, group: keyof typeof groups, p: BenchParams): Promise<void> {
  const key = `${t.name}:${group}`;
  if (done.has(key)) return;
  done.add(key);
  const dir = join(t.dir, `warm-up-${group}`);
  await mkdir(dir);
  await groups[group](dir, p);
  await rm(dir, { recursive: true, force: true });
}
