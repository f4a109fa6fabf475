/**
 * Hard links share one view of the data through a real mount, compared with a local directory: a
 * descriptor opened on one name before the link was made, and one opened on the other name after,
 * both read at once what is written through the other name (before fsync and close, after them, and
 * an append through the first name). The low-level binding gives both names one kernel inode.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MountedCluster, sh } from '../helpers/fuse-mount.js';

const program = `
const fs = require('node:fs');
process.chdir(process.argv[2]);
const read = (fd) => { const b = Buffer.alloc(64); return b.subarray(0, fs.readSync(fd, b, 0, 64, 0)).toString('latin1'); };
const out = [];
fs.writeFileSync('a', 'old data here\\n');
const before = fs.openSync('a', 'r');
fs.linkSync('a', 'b');
const after = fs.openSync('a', 'r');
const w = fs.openSync('b', 'r+');
fs.writeSync(w, 'NEW', 0, 'latin1', 0);
out.push('opened before the link, b open: ' + JSON.stringify(read(before)));
out.push('opened after the link, b open: ' + JSON.stringify(read(after)));
fs.fsyncSync(w);
out.push('after fsync: ' + JSON.stringify(read(before)));
fs.closeSync(w);
out.push('after close: ' + JSON.stringify(read(before)) + ' ' + JSON.stringify(read(after)));
fs.appendFileSync('a', 'tail\\n');
out.push('b after an append through a: ' + JSON.stringify(fs.readFileSync('b', 'latin1')));
out.push('opened before the link, after the append: ' + JSON.stringify(read(before)));
console.log(out.join('\\n'));
`;

describe('mount: hard links', () => {
  let mc: MountedCluster;
  beforeAll(async () => {
    mc = await MountedCluster.start();
    await sh(`mkdir ${mc.mount.path('hl')} ${mc.local}/hl`);
    await writeFile(join(mc.local, 'steps.cjs'), program);
  });
  afterAll(async () => {
    await mc?.stop();
  });

  it('shows data written through one name at once through descriptors of the other, as a local filesystem does', async () => {
    const run = (dir: string): Promise<string> => sh(`${process.execPath} ${mc.local}/steps.cjs ${dir}`);
    const local = await run(`${mc.local}/hl`);
    expect(local).toMatch(/^opened before the link, b open: "NEW data here\\n"$/m);
    expect((await run(mc.mount.path('hl'))).split('\n')).toEqual(local.split('\n'));
  });
});
