/**
 * Differential test of the FUSE mount: the same seeded random op sequences run on a real fst-mount
 * (1 master + 3 chunkservers, replication 2) and on a local temp directory, every outcome and the
 * final trees compared (test/fuse/differential/). After all seeds, the mount is replaced by a fresh
 * fst-mount process (no client cache left) and every seed's tree is compared again, so what was
 * checked is what reached the cluster.
 *
 *   FST_DIFF_OPS=<n>          ops per seed (default 700)
 *   FST_DIFF_SEEDS=<n>        how many seeds (default 6), from FST_DIFF_FIRST_SEED (default 1)
 *   FST_DIFF_SEED=<n>         replay one seed
 *   FST_DIFF_CONTEXT=<n>      ops shown before a mismatch (default 20)
 *   FST_DIFF_WEIGHTS=k=w,...  override op weights (e.g. link=0) to bisect a failure
 *
 * The mount process serves the kernel, this process only issues syscalls, so async node:fs calls on
 * the mount are safe here.
 */
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuseMount } from '../helpers/fuse-mount.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { installHelpers } from './differential/apply.js';
import { runSequence, type SequenceReport } from './differential/compare.js';
import { parseWeights } from './differential/ops.js';
import { sequenceRoot } from './differential/namespace.js';
import { diffTrees, snapshot } from './differential/tree.js';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name}=${v}: expected a non-negative integer`);
  return n;
}

const OPS = envInt('FST_DIFF_OPS', 700);
const ONE_SEED = process.env.FST_DIFF_SEED;
const FIRST_SEED = envInt('FST_DIFF_FIRST_SEED', 1);
const SEEDS = ONE_SEED ? [envInt('FST_DIFF_SEED', 0)] : Array.from({ length: envInt('FST_DIFF_SEEDS', 6) }, (_, i) => FIRST_SEED + i);
const CONTEXT = envInt('FST_DIFF_CONTEXT', 20);
const WEIGHTS_SPEC = process.env.FST_DIFF_WEIGHTS ?? '';
const WEIGHTS = parseWeights(WEIGHTS_SPEC);
const replay = (seed: number): string =>
  `FST_DIFF_SEED=${seed} FST_DIFF_OPS=${OPS}${WEIGHTS_SPEC ? ` FST_DIFF_WEIGHTS=${WEIGHTS_SPEC}` : ''} npm test -- test/fuse/differential.test.ts`;

function summary(r: SequenceReport): string {
  const kinds = Object.entries(r.kinds).map(([k, v]) => `${k} ${v.ok}/${v.ok + v.err}`).join(', ');
  return `seed ${r.seed}: ${r.steps} steps in ${(r.ms / 1000).toFixed(1)} s (${Math.round(r.steps / (r.ms / 1000))} ops/s), ` +
    `skipped ${r.skipped}, tolerated ${r.tolerated}\n  succeeded/run: ${kinds}\n  errnos: ${JSON.stringify(r.errnos)}`;
}

describe('fst-mount against a local directory (differential)', () => {
  let cluster: ProcessCluster | undefined;
  let mount: FuseMount | undefined;
  let local: string | undefined;
  const passed: number[] = [];

  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    // Some ops run as other users (chgrp to a supplementary group, writes to set-id files).
    mount = await FuseMount.start(cluster.masterAddress, ['--allow-other']);
    local = await mkdtemp(join(tmpdir(), 'fst-diff-local-'));
    await installHelpers(join(local, 'helpers'));
    // A seed's tree reaches the directory holding it through a symlink to "..": that directory
    // must look the same on both sides (the mount's root is 755; mkdtemp makes 700).
    await chmod(local, (await stat(mount.dir)).mode & 0o7777);
  });

  afterAll(async () => {
    // Each step runs even if an earlier one failed: no mount, process or temp dir is left behind.
    await mount?.stop().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    if (local) await rm(local, { recursive: true, force: true });
  });

  /** The mount's log tail, for failure messages. */
  const mountLog = (): string => `\n  fst-mount log (tail):\n${mount?.process.logTail().split('\n').slice(-25).map((l) => `    ${l}`).join('\n') ?? ''}`;

  for (const seed of SEEDS) {
    it(`seed ${seed}: ${OPS} random ops agree step by step and as a tree`, async () => {
      const a = sequenceRoot(join(mount!.dir, `seed-${seed}`));
      const b = sequenceRoot(join(local!, `seed-${seed}`));
      await Promise.all([mkdir(a, { recursive: true }), mkdir(b, { recursive: true })]);
      let report: SequenceReport;
      try {
        report = await runSequence({ seed, ops: OPS, a, b, nameA: 'fuse', nameB: 'local', replay: replay(seed), context: CONTEXT, weights: WEIGHTS });
      } catch (e) {
        if (e instanceof Error) e.message += mountLog();
        throw e;
      }
      console.log(summary(report));
      passed.push(seed);
    }, Math.max(180_000, OPS * 300));
  }

  it('a fresh fst-mount process (no client caches) sees the same trees', async () => {
    if (passed.length === 0) return;
    await mount!.stop();
    mount = undefined;
    mount = await FuseMount.start(cluster!.masterAddress, ['--allow-other']);
    for (const seed of passed) {
      const diffs = diffTrees(await snapshot(sequenceRoot(join(mount.dir, `seed-${seed}`))), await snapshot(sequenceRoot(join(local!, `seed-${seed}`))), 'fuse (remounted)', 'local');
      expect(diffs, `seed ${seed} after remount; replay: ${replay(seed)}`).toEqual([]);
    }
  });
});
