/**
 * test/pg-subset.txt, the files of the mount, fault and operations suites that CI runs a second
 * time with every master on PostgreSQL (scripts/test.sh): every test file of those suites is
 * listed exactly once, either run (`test/...`) or set aside with its reason (`- test/... # why`),
 * every file named exists, and each suite has files in the PostgreSQL pass.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/daemon-process.js';

const SUITES = ['test/fuse', 'test/fault', 'test/ops'];

interface Subset { run: string[]; setAside: { file: string; reason: string }[] }

async function readSubset(): Promise<Subset> {
  const subset: Subset = { run: [], setAside: [] };
  for (const line of (await readFile(join(REPO_ROOT, 'test/pg-subset.txt'), 'utf8')).split('\n')) {
    const run = /^(test\/\S+)/.exec(line);
    const aside = /^- (test\/\S+)\s*#\s*(.*)$/.exec(line);
    if (run) subset.run.push(run[1]!);
    else if (aside) subset.setAside.push({ file: aside[1]!, reason: aside[2]!.trim() });
    else expect(line, 'a line of test/pg-subset.txt is a file, a file set aside with "# reason", a comment or blank').toMatch(/^(#.*)?\s*$/);
  }
  return subset;
}

describe('test/pg-subset.txt', () => {
  it('lists every file of the mount, fault and operations suites once, run on PostgreSQL or set aside with a reason', async () => {
    const subset = await readSubset();
    const files = (await Promise.all(SUITES.map(async (dir) => (await readdir(join(REPO_ROOT, dir))).filter((f) => f.endsWith('.test.ts')).map((f) => `${dir}/${f}`)))).flat().sort();
    const listed = [...subset.run, ...subset.setAside.map((a) => a.file)];
    expect([...listed].sort()).toEqual(files);
    for (const a of subset.setAside) expect(a.reason, a.file).not.toBe('');
    for (const dir of SUITES) expect(subset.run.filter((f) => f.startsWith(`${dir}/`)).length, dir).toBeGreaterThan(0);
  });
});
