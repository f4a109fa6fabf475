/**
 * Metadata operations, `files` of each, one at a time from node, in a directory of their own
 * (`meta`): mkdir of d*, symlink l* -> f*, chmod and utimens of f*, rename of f* to r*, unlink of r*,
 * rmdir of d*. The empty files f* that chmod, utimens and rename work on are made untimed when
 * missing, so each of those runs alone too. Each counts or stats what it changed.
 */
import { chmod, lstat, mkdir, open, rename, rmdir, stat, symlink, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from '../targets.js';
import { check, countEntries, entryName, timedOps, type BenchParams } from './common.js';
import { warmUp } from './warm-up.js';

const metaDir = (t: Target): string => join(t.dir, 'meta');
const entry = (t: Target, prefix: string, i: number): string => join(metaDir(t), entryName(prefix, i));
/** What utimens sets: a whole second, so every target stores it exactly. */
const TIME = new Date('2001-02-03T04:05:06Z');

/** `meta/f*`, `files` empty files, unless they are there already (untimed). */
async function ensureFiles(t: Target, p: BenchParams): Promise<void> {
  await mkdir(metaDir(t), { recursive: true });
  if ((await countEntries(metaDir(t), 'f')) === p.files) return;
  for (let i = 0; i < p.files; i++) await (await open(entry(t, 'f', i), 'wx')).close();
}

/** Runs `ok(i)` on every entry i: how many pass, and the first few that do not (for the error message). */
async function countGood(n: number, ok: (i: number) => Promise<boolean | string>): Promise<{ good: number; bad: string }> {
  let good = 0;
  const bad: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await ok(i);
    if (r === true) good++;
    else if (bad.length < 5) bad.push(`${entryName('f', i)}${typeof r === 'string' ? ` ${r}` : ''}`);
  }
  return { good, bad: bad.length ? `; not: ${bad.join(', ')}` : '' };
}

export async function mkdirs(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'metadata', p);
  await mkdir(metaDir(t), { recursive: true });
  const rate = await timedOps(t, p.files, (i) => mkdir(entry(t, 'd', i)));
  check((await countEntries(metaDir(t), 'd', (e) => e.isDirectory())) === p.files, `${p.files} directories made`);
  return rate;
}

export async function symlinks(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'metadata', p);
  await mkdir(metaDir(t), { recursive: true });
  const rate = await timedOps(t, p.files, (i) => symlink(entryName('f', i), entry(t, 'l', i)));
  check((await countEntries(metaDir(t), 'l', (e) => e.isSymbolicLink())) === p.files, `${p.files} symlinks made`);
  return rate;
}

export async function chmods(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'metadata', p);
  await ensureFiles(t, p);
  const rate = await timedOps(t, p.files, (i) => chmod(entry(t, 'f', i), 0o640));
  const { good, bad } = await countGood(p.files, async (i) => {
    const mode = (await lstat(entry(t, 'f', i))).mode & 0o7777;
    return mode === 0o640 || `mode ${mode.toString(8)}`;
  });
  check(good === p.files, `${p.files} files are mode 640 (${good} are${bad})`);
  return rate;
}

export async function utimens(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'metadata', p);
  await ensureFiles(t, p);
  const rate = await timedOps(t, p.files, (i) => utimes(entry(t, 'f', i), TIME, TIME));
  const { good, bad } = await countGood(p.files, async (i) => {
    const st = await stat(entry(t, 'f', i));
    return (st.mtimeMs === TIME.getTime() && st.atimeMs === TIME.getTime()) || `atime ${st.atime.toISOString()} mtime ${st.mtime.toISOString()}`;
  });
  check(good === p.files, `${p.files} files have atime and mtime ${TIME.toISOString()} (${good} have${bad})`);
  return rate;
}

export async function renames(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'metadata', p);
  await ensureFiles(t, p);
  const rate = await timedOps(t, p.files, (i) => rename(entry(t, 'f', i), entry(t, 'r', i)));
  const [from, to] = [await countEntries(metaDir(t), 'f'), await countEntries(metaDir(t), 'r', (e) => e.isFile())];
  check(from === 0 && to === p.files, `${p.files} files renamed from f* to r* (${from} f*, ${to} r* left)`);
  return rate;
}

/** Unlinks the files `renames` left. */
export async function unlinks(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'metadata', p);
  const rate = await timedOps(t, p.files, (i) => unlink(entry(t, 'r', i)));
  check((await countEntries(metaDir(t), 'r')) === 0, `${p.files} files unlinked`);
  return rate;
}

/** Removes the directories `mkdirs` made. */
export async function rmdirs(t: Target, p: BenchParams): Promise<number> {
  await warmUp(t, 'metadata', p);
  const rate = await timedOps(t, p.files, (i) => rmdir(entry(t, 'd', i)));
  check((await countEntries(metaDir(t), 'd')) === 0, `${p.files} directories removed`);
  return rate;
}
