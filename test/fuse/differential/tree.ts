/**
 * Whole-tree snapshots for the end-of-sequence comparison: every path under a root with its type,
 * permission bits, link count, and for regular files the size and sha256 of the content, for
 * symlinks the size and target. libfuse's `.fuse_hidden*` files are left out (see apply.ts).
 */
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileType, isFuseHidden, type FileType } from './apply.js';

export interface TreeEntry {
  type: FileType;
  mode: number;
  nlink: number;
  /** Regular files and symlinks only (directory sizes are filesystem-specific). */
  size?: number;
  sha256?: string;
  target?: string;
}

export type Tree = Map<string, TreeEntry>;

/** Walks `dir` (not following symlinks) into a map from relative path to entry. */
export async function snapshot(dir: string): Promise<Tree> {
  const tree: Tree = new Map();
  async function walk(rel: string): Promise<void> {
    const names = (await readdir(rel ? join(dir, rel) : dir)).filter((n) => !isFuseHidden(n)).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(dir, path);
      const st = await lstat(abs);
      const type = fileType(st);
      const entry: TreeEntry = { type, mode: st.mode & 0o7777, nlink: st.nlink };
      if (type === 'file') {
        const content = await readFile(abs);
        entry.size = st.size;
        entry.sha256 = createHash('sha256').update(content).digest('hex');
        // A size that disagrees with the bytes read is a bug on its own, whatever the other side says.
        if (content.length !== st.size) entry.sha256 += ` (read ${content.length} bytes of ${st.size})`;
      } else if (type === 'symlink') {
        entry.size = st.size;
        entry.target = await readlink(abs);
      }
      tree.set(path, entry);
      if (type === 'dir') await walk(path);
    }
  }
  await walk('');
  return tree;
}

/** Human-readable differences between two snapshots (empty when they agree). */
export function diffTrees(a: Tree, b: Tree, nameA: string, nameB: string): string[] {
  const out: string[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const p of paths) {
    const ea = a.get(p);
    const eb = b.get(p);
    if (!ea) out.push(`${p}: missing on ${nameA}; ${nameB} has ${JSON.stringify(eb)}`);
    else if (!eb) out.push(`${p}: missing on ${nameB}; ${nameA} has ${JSON.stringify(ea)}`);
    else {
      for (const k of ['type', 'mode', 'nlink', 'size', 'target', 'sha256'] as const) {
        if (ea[k] !== eb[k]) {
          const show = (v: unknown): string => (k === 'mode' && typeof v === 'number' ? v.toString(8) : JSON.stringify(v));
          out.push(`${p}: ${k} ${nameA}=${show(ea[k])} ${nameB}=${show(eb[k])}`);
        }
      }
    }
  }
  return out;
}

/** The `.fuse_hidden*` files anywhere under `dir`, with their inode numbers. */
export async function hiddenFiles(dir: string): Promise<{ path: string; ino: number }[]> {
  const found: { path: string; ino: number }[] = [];
  async function walk(abs: string): Promise<void> {
    const entries = await readdir(abs, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(abs, e.name);
      if (isFuseHidden(e.name)) {
        const st = await lstat(p).catch(() => undefined);
        if (st) found.push({ path: p, ino: st.ino });
      } else if (e.isDirectory()) await walk(p);
    }
  }
  await walk(dir);
  return found;
}
