/**
 * The generator's guess of what exists, used only to aim ops: it applies each generated op as if it
 * had succeeded where the usual rules say it would (parent is a directory, target free, directory
 * empty...). It never sees real results, so the sequence stays a pure function of the seed; when the
 * guess is wrong an op merely fails the same way on both roots. Without this aim, most ops on a
 * three-level namespace fail with ENOENT or ENOTDIR and little data is ever written.
 */
import { posix } from 'node:path';
import type { Op } from './ops.js';
import type { Rng } from './rng.js';

export const DIR_NAMES = ['a', 'b'] as const;
export const FILE_NAMES = ['f', 'g', 'h'] as const;
/** Deepest level a path can have (a/b/f). */
export const MAX_DEPTH = 3;

/**
 * Where a sequence runs inside its own directory `dir`: some levels down. A symlink's relative
 * target climbs as far as the link was deep (`../../f` from `a/b/l`); renamed closer to the root,
 * the link points above it, and writes through it land there. Without room above the root they
 * landed beside the test's temp directories (a file `/tmp/b` outlived every run).
 */
export function sequenceRoot(dir: string): string {
  return posix.join(dir, ...Array.from({ length: 2 * MAX_DEPTH }, (_, i) => `up${i}`));
}

/** 'file' stands for any non-directory when asked for; 'link' is a symlink. */
export type Kind = 'dir' | 'file' | 'link';

export class Namespace {
  /** Path -> what the generator believes is there. '' is the root. */
  private readonly entries = new Map<string, Kind>([['', 'dir']]);

  private parentOf(p: string): string {
    const d = posix.dirname(p);
    return d === '.' ? '' : d;
  }

  private isDir(p: string): boolean {
    return this.entries.get(p) === 'dir';
  }

  private children(p: string): string[] {
    const prefix = p === '' ? '' : `${p}/`;
    return [...this.entries.keys()].filter((k) => k !== '' && k.startsWith(prefix) && !k.slice(prefix.length).includes('/'));
  }

  /** A path that is believed to exist (of `kind` if given), or undefined if there is none. */
  existing(r: Rng, kind?: Kind): string | undefined {
    const matches = (v: Kind): boolean => !kind || v === kind || (kind === 'file' && v === 'link');
    const all = [...this.entries].filter(([k, v]) => k !== '' && matches(v)).map(([k]) => k);
    return all.length > 0 ? r.pick(all) : undefined;
  }

  /** A free name inside a directory believed to exist, at most MAX_DEPTH deep. */
  fresh(r: Rng, kind: 'dir' | 'file'): string | undefined {
    const dirs = [...this.entries].filter(([k, v]) => v === 'dir' && (k === '' ? 0 : k.split('/').length) < MAX_DEPTH).map(([k]) => k);
    const names = kind === 'dir' ? [...DIR_NAMES, ...FILE_NAMES.slice(0, 1)] : [...FILE_NAMES, ...DIR_NAMES.slice(0, 1)];
    for (let tries = 0; tries < 6 && dirs.length > 0; tries++) {
      const p = posix.join(r.pick(dirs), r.pick(names));
      if (!this.entries.has(p)) return p;
    }
    return undefined;
  }

  private add(p: string, kind: Kind, replace = false): void {
    if (!this.isDir(this.parentOf(p))) return;
    if (this.entries.has(p) && !replace) return;
    this.entries.set(p, kind);
  }

  private move(from: string, to: string): void {
    const kind = this.entries.get(from);
    if (kind === undefined || from === to || to.startsWith(`${from}/`) || !this.isDir(this.parentOf(to))) return;
    const target = this.entries.get(to);
    if (target !== undefined && ((target === 'dir') !== (kind === 'dir') || (kind === 'dir' && this.children(to).length > 0))) return;
    const moved = [...this.entries].filter(([k]) => k === from || k.startsWith(`${from}/`));
    for (const [k] of moved) this.entries.delete(k);
    for (const [k, v] of moved) this.entries.set(to + k.slice(from.length), v);
  }

  /** Updates the guess as if `op` succeeded wherever it plausibly would. */
  observe(op: Op): void {
    switch (op.kind) {
      case 'create': if (!op.excl || !this.entries.has(op.path)) this.add(op.path, 'file'); break;
      case 'open': if (op.flags !== 'r' && op.flags !== 'r+') this.add(op.path, 'file'); break;
      case 'mkdir': this.add(op.path, 'dir'); break;
      case 'symlink': this.add(op.path, 'link'); break;
      case 'link': {
        const from = this.entries.get(op.from);
        if (from !== undefined && from !== 'dir') this.add(op.to, from);
        break;
      }
      case 'unlink': if (this.entries.has(op.path) && !this.isDir(op.path)) this.entries.delete(op.path); break;
      case 'rmdir': if (this.isDir(op.path) && op.path !== '' && this.children(op.path).length === 0) this.entries.delete(op.path); break;
      case 'rename': this.move(op.from, op.to); break;
      default: break;
    }
  }
}
