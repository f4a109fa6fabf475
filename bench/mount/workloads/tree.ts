/**
 * A real source tree of a few thousand entries (source-tree.ts): `cp -r` of it into the target,
 * then cold `ls -lR`, `find` and `du -s` of that copy, `tar xf` of its tarball, and `rm -rf` of the
 * copy. Each checks the tree it made or walked.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { warmSourceTree, type SourceTree } from '../source-tree.js';
import { countTree, q, sh } from '../system.js';
import type { Target } from '../targets.js';
import { check, seconds, timedChange, type BenchParams } from './common.js';
import { warmUp } from './warm-up.js';

const copyDir = (t: Target): string => join(t.dir, 'cp');

async function checkCopy(dir: string, tree: SourceTree): Promise<void> {
  const c = await countTree(dir);
  check(c.files === tree.files && c.bytes === tree.bytes, `${dir} holds ${tree.files} files / ${tree.bytes} bytes (has ${c.files} / ${c.bytes})`);
}

/** Seconds a read-only shell command takes, and its output. */
async function timedRead(cmd: string): Promise<{ s: number; out: string }> {
  const t0 = performance.now();
  const out = await sh(cmd);
  return { s: seconds(t0), out };
}

export async function cpTree(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'tree', p);
  await warmSourceTree(p.tree);
  const s = await timedChange(t, () => sh(`cp -r ${q(p.tree.dir)} ${q(copyDir(t))}`));
  await checkCopy(copyDir(t), p.tree);
  return s;
}

export async function lsTree(t: Target, p: BenchParams): Promise<number> {
  const { s, out } = await timedRead(`ls -lR ${q(copyDir(t))} | wc -l`);
  const lines = Number(out.trim());
  check(lines >= p.tree.files + p.tree.dirs, `ls -lR listed ${p.tree.files} files and ${p.tree.dirs} dirs (${lines} lines)`);
  return s;
}

export async function findTree(t: Target, p: BenchParams): Promise<number> {
  const { s, out } = await timedRead(`find ${q(copyDir(t))} | wc -l`);
  const entries = p.tree.files + p.tree.dirs + p.tree.others;
  check(Number(out.trim()) === entries, `find listed ${entries} entries (${out.trim()})`);
  return s;
}

export async function duTree(t: Target): Promise<number> {
  const { s, out } = await timedRead(`du -s ${q(copyDir(t))}`);
  const [kib, path] = out.trim().split('\t');
  check(Number(kib) > 0 && path === copyDir(t), `du -s summed ${copyDir(t)} (said ${out.trim()})`);
  return s;
}

export async function untarTree(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'tree', p);
  await warmSourceTree(p.tree);
  await mkdir(join(t.dir, 'untar'));
  const s = await timedChange(t, () => sh(`tar xf ${q(p.tree.tarball)} -C ${q(join(t.dir, 'untar'))}`));
  await checkCopy(join(t.dir, 'untar', 'tree'), p.tree);
  return s;
}

export async function rmTree(t: Target): Promise<number> {
  const s = await timedChange(t, () => sh(`rm -rf ${q(copyDir(t))}`));
  check(!existsSync(copyDir(t)), `${copyDir(t)} is gone`);
  return s;
}
