/**
 * Small files, one at a time from node: creates of 4 KiB files (open O_CREAT|O_EXCL, write, close;
 * and the same with fsync before close, in a directory of their own), then cold reads and lstats
 * of the first set. File i holds the pattern at i × 4 KiB, so every read is checked.
 */
import { lstat, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from '../targets.js';
import { check, countEntries, entryName, expected, seconds, SMALL, timedChange, type BenchParams } from './common.js';
import { warmUp } from './warm-up.js';

const smallDir = (t: Target): string => join(t.dir, 'small');
const fsyncDir = (t: Target): string => join(t.dir, 'small-fsync');

async function writeFiles(t: Target, p: BenchParams, dir: string, fsync: boolean): Promise<number> {
  await warmUp(t, 'smallFiles', p);
  await mkdir(dir);
  const s = await timedChange(t, async () => {
    for (let i = 0; i < p.files; i++) {
      const fh = await open(join(dir, entryName('f', i)), 'wx');
      await fh.write(expected(i * SMALL, SMALL), 0, SMALL, 0);
      if (fsync) await fh.sync();
      await fh.close();
    }
  });
  check((await countEntries(dir, 'f', (e) => e.isFile())) === p.files, `${p.files} files in ${dir}`);
  return p.files / s;
}

export const createFiles = (t: Target, p: BenchParams): Promise<number> => writeFiles(t, p, smallDir(t), false);

export const createFilesFsync = (t: Target, p: BenchParams): Promise<number> => writeFiles(t, p, fsyncDir(t), true);

/** open + read 4 KiB + close of every file `createFiles` made (cold: the caller dropped the caches). */
export async function readFiles(t: Target, p: BenchParams): Promise<number> {
  const buf = Buffer.alloc(SMALL);
  let good = 0;
  const t0 = performance.now();
  for (let i = 0; i < p.files; i++) {
    const fh = await open(join(smallDir(t), entryName('f', i)), 'r');
    const { bytesRead } = await fh.read(buf, 0, SMALL, 0);
    await fh.close();
    if (bytesRead === SMALL && buf.equals(expected(i * SMALL, SMALL))) good++;
  }
  const s = seconds(t0);
  check(good === p.files, `${p.files} files read back as written (${good} were)`);
  return p.files / s;
}

export async function statFiles(t: Target, p: BenchParams): Promise<number> {
  let good = 0;
  const t0 = performance.now();
  for (let i = 0; i < p.files; i++) if ((await lstat(join(smallDir(t), entryName('f', i)))).size === SMALL) good++;
  const s = seconds(t0);
  check(good === p.files, `${p.files} stats saw 4 KiB files (${good} did)`);
  return p.files / s;
}
