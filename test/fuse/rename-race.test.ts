/**
 * Replacing a file by rename while others keep opening it (what editors, package managers and
 * config writers do): for 30 s a writer writes new.N and renames it over doc.txt while four readers
 * open and read doc.txt. No open may fail (ENOENT) and no read may be short or mix two versions, and
 * no `.fuse_hidden*` name may appear in the directory (libfuse's path API renamed open files
 * aside; the mount's low-level binding must not).
 */
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MountedCluster } from '../helpers/fuse-mount.js';

const RACE_MS = 30_000;
const SIZE = 48 * 1024;

/** Version `n`'s bytes: a header naming it, then a filler that depends on `n` throughout. */
function version(n: number): Buffer {
  const b = Buffer.alloc(SIZE, 97 + (n % 26));
  b.write(`version ${String(n).padStart(8, '0')}\n`, 0, 'latin1');
  return b;
}

/** Which version `data` is, or why it is none. */
function check(data: Buffer): number | string {
  if (data.length !== SIZE) return `short read: ${data.length} bytes`;
  const m = /^version (\d{8})\n/.exec(data.subarray(0, 17).toString('latin1'));
  if (!m) return 'no header';
  const n = Number(m[1]);
  return data.equals(version(n)) ? n : `version ${n} mixed with another`;
}

describe('mount: rename over a file being opened', () => {
  let mc: MountedCluster;
  beforeAll(async () => {
    mc = await MountedCluster.start();
  });
  afterAll(async () => {
    await mc?.stop();
  });

  it('never makes a reader miss the file or read a mix, and never shows .fuse_hidden names', async () => {
    const dir = mc.mount.path('race');
    await mkdir(dir);
    const doc = `${dir}/doc.txt`;
    await writeFile(doc, version(0));
    const until = Date.now() + RACE_MS;
    let written = 0;
    const problems: string[] = [];
    const seen = new Set<number>();
    let reads = 0;
    let hidden = 0;
    const writer = (async () => {
      for (let n = 1; Date.now() < until; n++) {
        await writeFile(`${dir}/new.${n}`, version(n));
        await rename(`${dir}/new.${n}`, doc);
        written = n;
        if (n % 20 === 0) hidden += (await readdir(dir)).filter((name) => name.startsWith('.fuse_hidden')).length;
      }
    })();
    const reader = async (): Promise<void> => {
      while (Date.now() < until) {
        try {
          const v = check(await readFile(doc));
          reads++;
          if (typeof v === 'number') seen.add(v);
          else problems.push(v);
        } catch (e) {
          problems.push(String((e as NodeJS.ErrnoException).code ?? e));
        }
      }
    };
    await Promise.all([writer, reader(), reader(), reader(), reader()]);
    // The race happened: many versions written and read.
    expect(written).toBeGreaterThan(50);
    expect(seen.size).toBeGreaterThan(20);
    expect(problems.slice(0, 10), `${problems.length} bad opens or reads of ${reads}`).toEqual([]);
    expect(hidden).toBe(0);
  }, RACE_MS + 60_000);
});
