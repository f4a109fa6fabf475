/**
 * Runs one seeded op sequence against two roots, A (the system under test, the FUSE mount) and B
 * (the reference, a local directory), comparing every outcome step by step, then the whole trees.
 * The first disagreement throws a DifferentialMismatch naming the seed, the step, the op, both
 * outcomes and the ops that led there.
 *
 * What legitimately differs between a libfuse high-level filesystem and ext4 is handled here, each
 * case narrowly and only where A shows the libfuse artefact that explains it:
 *  - libfuse (without hard_remove) silly-renames a file unlinked or renamed over while open to
 *    `.fuse_hidden<ino><n>` in the same directory and unlinks it on the last release. Listings and
 *    tree snapshots drop those names (apply.ts, tree.ts).
 *  - Such a file keeps its directory non-empty: rmdir, or rename onto that directory, would fail
 *    with ENOTEMPTY on A while B succeeds. Before those ops A's target directory is listed, and
 *    when it holds hidden files the op is skipped on both sides (counted in `skipped`).
 *  - It also keeps one link of its inode: st_nlink on A exceeds B's by exactly the number of
 *    hidden names of that inode (an unlinked but open file: 1 on A, 0 on B). A stat outcome that
 *    differs only so, after counting those names, is accepted (counted in `tolerated`).
 *  - Release is asynchronous to close(2), so after a close A's hidden name may linger for a
 *    moment; the runner waits until it is gone before the next op (and reports it if it stays).
 * EXDEV cannot arise (every op stays inside one root), so no errno is translated: a different
 * errno is always reported.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readdir, stat } from 'node:fs/promises';
import { apply, isFuseHidden, Root, type Outcome } from './apply.js';
import { describeOp, OpGenerator, type Op, type OpKind } from './ops.js';
import { diffTrees, hiddenFiles, snapshot } from './tree.js';
import { waitFor } from '../../helpers/probes.js';

export interface SequenceOptions {
  seed: number;
  /** Random ops to run; closes of the descriptors left open follow. */
  ops: number;
  /** Empty directories for this seed: A is checked against B. */
  a: string;
  b: string;
  nameA?: string;
  nameB?: string;
  /** How to replay this seed, appended to failure messages. */
  replay?: string;
  /** Op weight overrides (see OpGenerator). */
  weights?: Partial<Record<OpKind, number>>;
  /** Called before each step (tests use it to corrupt a side on purpose). */
  beforeStep?: (step: number, op: Op, a: Root, b: Root) => Promise<void>;
  /** A step slower than this on either side fails as TIMEOUT. @default 60000 */
  opTimeoutMs?: number;
  /** Ops shown before the failing one. @default 20 */
  context?: number;
}

export interface SequenceReport {
  seed: number;
  steps: number;
  /** Ops skipped because A's target directory held libfuse hidden files. */
  skipped: number;
  /** Stat outcomes accepted because A's extra links were hidden names of the same inode. */
  tolerated: number;
  /** Per op kind: how many succeeded and how many failed (on both sides alike). */
  kinds: Partial<Record<OpKind, { ok: number; err: number }>>;
  errnos: Record<string, number>;
  ms: number;
}

export class DifferentialMismatch extends Error {
  override readonly name = 'DifferentialMismatch';
  constructor(readonly seed: number, readonly step: number | 'tree', message: string) {
    super(message);
  }
}

function summarize(o: Outcome): string {
  if (!o.ok) return o.code;
  const v = JSON.stringify(o.value);
  return `ok ${v.length > 120 ? `${v.slice(0, 117)}...` : v}`;
}

const show = (o: Outcome): string => JSON.stringify(o.ok ? { ok: true, value: o.value } : o);
const same = (x: Outcome, y: Outcome): boolean => show(x) === show(y);

/** For two reads that disagree: where the bytes first differ. */
function firstByteDiff(a: Outcome, b: Outcome): string {
  const da = a.ok ? a.detail?.data : undefined;
  const db = b.ok ? b.detail?.data : undefined;
  if (!da || !db) return '';
  const n = Math.min(da.length, db.length);
  for (let i = 0; i < n; i++) {
    if (da[i] !== db[i]) return `\n  first differing byte at +${i}: A=0x${da[i]!.toString(16)} B=0x${db[i]!.toString(16)}`;
  }
  return da.length !== db.length ? `\n  lengths differ (${da.length} vs ${db.length}); common prefix equal` : '';
}

/** `p`, or `fallback` if `p` takes longer than `ms` (the timer is cancelled either way). */
async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  const ac = new AbortController();
  const timer = sleep(ms, fallback, { signal: ac.signal }).catch(() => fallback);
  try {
    return await Promise.race([p, timer]);
  } finally {
    ac.abort();
  }
}

const withTimeout = (p: Promise<Outcome>, ms: number): Promise<Outcome> => within(p, ms, { ok: false, code: `TIMEOUT(${ms} ms)` });

/** A's target directory of an rmdir, or of a rename onto it, holds hidden files: B cannot match. */
async function blockedByHidden(a: Root, op: Op): Promise<boolean> {
  const dir = op.kind === 'rmdir' ? op.path : op.kind === 'rename' ? op.to : undefined;
  if (dir === undefined) return false;
  return (await readdir(a.abs(dir)).catch(() => [] as string[])).some(isFuseHidden);
}

/** Stat outcomes equal but for A's extra links, each one a hidden name of the same inode. */
async function nlinkExplainedByHidden(a: Root, ra: Outcome, rb: Outcome): Promise<boolean> {
  if (!ra.ok || !rb.ok || ra.detail?.ino === undefined) return false;
  const va = ra.value as { nlink?: number };
  const vb = rb.value as { nlink?: number };
  if (typeof va.nlink !== 'number' || typeof vb.nlink !== 'number' || va.nlink <= vb.nlink) return false;
  if (JSON.stringify({ ...va, nlink: 0 }) !== JSON.stringify({ ...vb, nlink: 0 })) return false;
  const hidden = (await hiddenFiles(a.dir)).filter((h) => h.ino === ra.detail?.ino).length;
  return va.nlink - vb.nlink === hidden;
}

/**
 * After closing `ino`'s last descriptor on A, waits for libfuse's asynchronous release to drop its
 * hidden name; undefined once it is gone, else what is still there.
 */
async function awaitRelease(a: Root, ino: number): Promise<string | undefined> {
  return waitFor('the release after the last close', async () => {
    const left = (await hiddenFiles(a.dir)).filter((h) => h.ino === ino);
    if (left.length > 0) throw new Error(`hidden file(s) ${left.map((h) => h.path).join(', ')} still present after the last close`);
    return true;
  }, undefined, 50).then(() => undefined, (e: unknown) => (e as Error).message);
}

export async function runSequence(o: SequenceOptions): Promise<SequenceReport> {
  const started = Date.now();
  const nameA = o.nameA ?? 'A';
  const nameB = o.nameB ?? 'B';
  const a = new Root(o.a, nameA);
  const b = new Root(o.b, nameB);
  const gen = new OpGenerator(o.seed, o.weights);
  const history: string[] = [];
  /** Inode of each descriptor open on A, to wait for libfuse's release after its last close. */
  const inodes = new Map<string, number | undefined>();
  const report: SequenceReport = { seed: o.seed, steps: 0, skipped: 0, tolerated: 0, kinds: {}, errnos: {}, ms: 0 };
  const timeout = o.opTimeoutMs ?? 60_000;
  const fail = (step: number | 'tree', what: string): never => {
    const ctx = history.slice(-(o.context ?? 20)).map((h) => `    ${h}`).join('\n');
    const where = step === 'tree' ? `final tree comparison after ${report.steps} steps` : `step ${step}`;
    throw new DifferentialMismatch(o.seed, step,
      `differential mismatch: seed ${o.seed}, ${where}\n${what}\n  previous ops (step: op -> outcome on both sides):\n${ctx || '    (none)'}` +
      (o.replay ? `\n  replay: ${o.replay}` : ''));
  };

  try {
    let closing: Op[] | undefined;
    for (let step = 0; ; step++) {
      // The random ops, then a close of every descriptor still open.
      const op = step < o.ops ? gen.next() : (closing ??= gen.closeAll()).shift();
      if (!op) break;
      await o.beforeStep?.(step, op, a, b);
      if (await blockedByHidden(a, op)) {
        report.skipped++;
        history.push(`${step}: ${describeOp(op)} -> skipped (libfuse hidden files in ${nameA}'s target directory)`);
        continue;
      }
      const [ra, rb] = await Promise.all([withTimeout(apply(a, op), timeout), withTimeout(apply(b, op), timeout)]);
      report.steps++;
      if (!same(ra, rb)) {
        if (await nlinkExplainedByHidden(a, ra, rb)) report.tolerated++;
        else fail(step, `  op: ${describeOp(op)}\n  ${nameA}: ${show(ra)}\n  ${nameB}: ${show(rb)}${firstByteDiff(ra, rb)}`);
      }
      const k = (report.kinds[op.kind] ??= { ok: 0, err: 0 });
      if (rb.ok) k.ok++;
      else {
        k.err++;
        report.errnos[rb.code] = (report.errnos[rb.code] ?? 0) + 1;
      }
      history.push(`${step}: ${describeOp(op)} -> ${summarize(rb)}`);
      if (op.kind === 'open' && ra.ok) {
        // stat(2) by path, right after the open: fstat would make FST refresh the open file's
        // attributes, which could hide a stale-attribute bug from the ops that follow.
        inodes.set(op.id, await stat(a.abs(op.path)).then((st) => st.ino, () => undefined));
      }
      if (op.kind === 'close') {
        const ino = inodes.get(op.id);
        inodes.delete(op.id);
        if (ino !== undefined && ![...inodes.values()].includes(ino)) {
          const stuck = await awaitRelease(a, ino);
          if (stuck) fail(step, `  op: ${describeOp(op)}\n  ${nameA}: ${stuck}`);
        }
      }
    }
    const [ta, tb] = await Promise.all([snapshot(o.a), snapshot(o.b)]);
    const diffs = diffTrees(ta, tb, nameA, nameB);
    if (diffs.length > 0) {
      const shown = diffs.slice(0, 30).map((d) => `    ${d}`).join('\n');
      fail('tree', `  ${diffs.length} difference(s):\n${shown}${diffs.length > 30 ? '\n    ...' : ''}`);
    }
  } finally {
    // Bounded: after a TIMEOUT the mount may never answer, and the caller still has to unmount.
    await within(Promise.all([a.closeAll(), b.closeAll()]).then(() => undefined), 10_000, undefined);
  }
  report.ms = Date.now() - started;
  return report;
}
