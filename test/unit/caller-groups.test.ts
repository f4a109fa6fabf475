/**
 * CallerGroups reads a FUSE caller's supplementary groups from /proc/PID/status: the real /proc
 * for this process, and a directory laid out like /proc to see the parse and the per-pid cache.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CallerGroups, parseGroups } from '../../src/client/fuse/caller-groups.js';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = '';
});

const status = (groups: string): string => `Name:\tcat\nUid:\t1234\t1234\t1234\t1234\nGid:\t5678\t5678\t5678\t5678\nGroups:\t${groups}\nVmPeak:\t1 kB\n`;

describe('CallerGroups', () => {
  it('parses the Groups line, empty or missing included', () => {
    expect(parseGroups(status('5678 6000 4294967294 '))).toEqual([5678, 6000, 4294967294]);
    expect(parseGroups(status(''))).toEqual([]);
    expect(parseGroups('Name:\tx\n')).toEqual([]);
  });

  it('reads this process\'s groups from /proc as the kernel has them', () => {
    const want = parseGroups(readFileSync('/proc/self/status', 'latin1'));
    expect(new CallerGroups().of(process.pid)).toEqual(want);
    expect(new CallerGroups().of(0)).toEqual([]);
  });

  it('keeps a pid\'s groups for its TTL, then reads them again; a process gone has none', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fst-proc-'));
    await mkdir(join(dir, '42'));
    await writeFile(join(dir, '42', 'status'), status('6000'));
    let now = 1_000;
    const realNow = Date.now;
    Date.now = () => now;
    try {
      const g = new CallerGroups(1000, dir);
      expect(g.of(42)).toEqual([6000]);
      await writeFile(join(dir, '42', 'status'), status('6000 7000'));
      now += 500;
      expect(g.of(42)).toEqual([6000]);
      now += 600;
      expect(g.of(42)).toEqual([6000, 7000]);
      expect(g.of(43)).toEqual([]);
    } finally {
      Date.now = realNow;
    }
  });
});
