/**
 * Self-check of the differential tester (test/fuse/differential/) without a mount: A and B are two
 * local directories. They must agree (the generator, apply and compare are deterministic), and a
 * side corrupted on purpose must be caught with the seed in the message.
 */
import { chmod, lstat, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installHelpers, type Root } from './differential/apply.js';
import { DifferentialMismatch, runSequence, type SequenceReport } from './differential/compare.js';
import { generateOps, OP_WEIGHTS, type Op, type OpKind } from './differential/ops.js';
import { sequenceRoot } from './differential/namespace.js';
import { diffTrees, snapshot } from './differential/tree.js';

const OPS = 400;
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fst-diff-self-'));
  // Some ops run as other users, who must reach the trees and the helper programs.
  await chmod(root, 0o755);
  await installHelpers(join(root, 'helpers'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Fresh A and B directories for one seed. */
async function sides(seed: number): Promise<{ a: string; b: string }> {
  const a = sequenceRoot(join(root, `a-${seed}`));
  const b = sequenceRoot(join(root, `b-${seed}`));
  await Promise.all([mkdir(a, { recursive: true }), mkdir(b, { recursive: true })]);
  return { a, b };
}

const replay = (seed: number): string => `FST_DIFF_SEED=${seed} (self test)`;

/** Flips the byte in the middle of every non-empty regular file under `dir`; false if there is none. */
async function flipBytes(dir: string): Promise<boolean> {
  let flipped = false;
  for (const [path, e] of await snapshot(dir)) {
    if (e.type !== 'file' || !e.size) continue;
    const fh = await open(join(dir, path), 'r+');
    try {
      const at = Math.floor(e.size / 2);
      const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, at);
      await fh.write(Buffer.from([buffer[0]! ^ 0xff]), 0, 1, at);
    } finally {
      await fh.close();
    }
    flipped = true;
  }
  return flipped;
}

describe('differential tester on two local directories', () => {
  it('generates the same sequence from the same seed, and a longer run extends a shorter one', () => {
    const long = generateOps(42, 300);
    expect(generateOps(42, 300)).toEqual(long);
    expect(long.slice(0, 100)).toEqual(generateOps(42, 100).slice(0, 100));
    expect(generateOps(43, 300)).not.toEqual(long);
  });

  it('finds no difference between two local directories, and the op mix exercises every kind', async () => {
    const reports: SequenceReport[] = [];
    for (const seed of [1, 2, 3]) reports.push(await runSequence({ seed, ops: OPS, ...(await sides(seed)), replay: replay(seed) }));
    const total = (k: OpKind, f: 'ok' | 'err'): number => reports.reduce((s, r) => s + (r.kinds[k]?.[f] ?? 0), 0);
    for (const k of Object.keys(OP_WEIGHTS) as OpKind[]) expect(total(k, 'ok') + total(k, 'err'), k).toBeGreaterThan(0);
    // Collisions are the point, but most data ops must succeed or the sequence tests little.
    for (const k of ['create', 'write', 'read', 'fwrite', 'mkdir', 'stat'] as const) {
      expect(total(k, 'ok'), `${k} ok`).toBeGreaterThan(total(k, 'err') / 2);
    }
    for (const r of reports) expect(r.skipped + r.tolerated).toBe(0);
  });

  it('catches bytes flipped in one side halfway through, naming the seed and the replay', async () => {
    // Later ops overwrite, truncate or unlink many files; with this seed a read meets a flipped byte.
    const seed = 1;
    let flipped = -1;
    const run = runSequence({
      seed, ops: OPS, ...(await sides(seed)), replay: replay(seed),
      beforeStep: async (step: number, _op: Op, a: Root) => {
        if (flipped < 0 && step >= OPS / 2 && (await flipBytes(a.dir))) flipped = step;
      },
    });
    const err = await run.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DifferentialMismatch);
    const m = err as DifferentialMismatch;
    expect(flipped).toBeGreaterThanOrEqual(OPS / 2);
    expect(m.seed).toBe(seed);
    expect(m.message).toContain(`seed ${seed}`);
    expect(m.message).toContain(`replay: ${replay(seed)}`);
    expect(m.message).toMatch(/previous ops/);
    expect(m.step).not.toBe('tree');
    expect(m.message).toMatch(/first differing byte at \+\d+/);
  });

  it('catches a different errno at the very step, with both outcomes and the op', async () => {
    const seed = 5;
    const { a, b } = await sides(seed);
    let target = -1;
    // Before the first mkdir after step 50 that will succeed on B, create the directory on A only.
    const beforeStep = async (step: number, op: Op): Promise<void> => {
      if (target >= 0 || step < 50 || op.kind !== 'mkdir') return;
      const parent = join(b, op.path, '..');
      const free = await lstat(join(b, op.path)).then(() => false, () => true);
      const parentIsDir = await lstat(parent).then((s) => s.isDirectory(), () => false);
      if (free && parentIsDir) {
        await mkdir(join(a, op.path));
        target = step;
      }
    };
    const err = await runSequence({ seed, ops: OPS, a, b, nameA: 'A (corrupted)', nameB: 'B', beforeStep }).then(() => undefined, (e: unknown) => e);
    expect(target).toBeGreaterThanOrEqual(50);
    expect(err).toBeInstanceOf(DifferentialMismatch);
    const m = err as DifferentialMismatch;
    expect(m.step).toBe(target);
    expect(m.message).toContain(`seed ${seed}, step ${target}`);
    expect(m.message).toMatch(/A \(corrupted\): \{"ok":false,"code":"EEXIST"\}/);
    expect(m.message).toMatch(/B: \{"ok":true,"value":null\}/);
  });

  it('ignores libfuse hidden files in listings and trees, and skips an rmdir they would block', async () => {
    const seed = 9;
    const { a, b } = await sides(seed);
    let planted = 0;
    const beforeStep = async (_step: number, op: Op): Promise<void> => {
      if (op.kind !== 'rmdir') return;
      const isDir = await lstat(join(a, op.path)).then((s) => s.isDirectory(), () => false);
      if (isDir) {
        await writeFile(join(a, op.path, `.fuse_hidden000000${planted++}`), 'x');
      }
    };
    const r = await runSequence({ seed, ops: OPS, a, b, beforeStep });
    expect(planted).toBeGreaterThan(0);
    expect(r.skipped).toBeGreaterThan(0);
  });

  it('diffTrees reports type, mode, size, content, nlink and symlink target differences', async () => {
    const { a, b } = await sides(0);
    await writeFile(join(a, 'f'), 'hello');
    await writeFile(join(b, 'f'), 'hellO');
    await writeFile(join(a, 'g'), 'x', { mode: 0o600 });
    await writeFile(join(b, 'g'), 'x', { mode: 0o644 });
    await mkdir(join(a, 'only-a'));
    const diffs = diffTrees(await snapshot(a), await snapshot(b), 'A', 'B');
    expect(diffs).toEqual([
      expect.stringMatching(/^f: sha256 A=/),
      'g: mode A=600 B=644',
      expect.stringMatching(/^only-a: missing on B/),
    ]);
  });
});
