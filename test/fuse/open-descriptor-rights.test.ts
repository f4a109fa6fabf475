/**
 * A descriptor keeps the rights it was opened with, through a real mount, compared step by step
 * with a local directory: a file created with mode 0 and O_CREAT|O_RDWR can be ftruncated and
 * written through that descriptor; a descriptor opened before a chmod 000 still writes, ftruncates
 * and its data reaches the file at close; truncate(2) by path still checks the mode; a read-only
 * descriptor cannot ftruncate. Run as a real user (setpriv), a node program making the calls.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sh, type MountedCluster } from '../helpers/fuse-mount.js';
import { OTHER, startForUsers } from '../helpers/posix-users.js';


/** A node program doing the steps in `dir`, printing one line per step (outcome, size, mode). */
const program = `
const fs = require('node:fs');
process.chdir(process.argv[2]);
const { O_CREAT, O_RDWR, O_EXCL, O_RDONLY } = fs.constants;
const fd = [];
function step(name, fn, path) {
  let out = 'ok';
  try { fn(); } catch (e) { out = e.code; }
  try {
    const st = fs.statSync(path);
    console.log(name + ': ' + out + ' size=' + st.size + ' mode=' + (st.mode & 0o7777).toString(8));
  } catch (e) { console.log(name + ': ' + out + ' stat: ' + e.code); }
}
step('create mode 0 O_RDWR', () => fd.push(fs.openSync('zero', O_CREAT | O_RDWR | O_EXCL, 0)), 'zero');
step('ftruncate it', () => fs.ftruncateSync(fd[0], 100), 'zero');
step('write it', () => fs.writeSync(fd[0], Buffer.alloc(10, 120), 0, 10, 200), 'zero');
step('close it', () => fs.closeSync(fd[0]), 'zero');
step('truncate it by path', () => fs.truncateSync('zero', 5), 'zero');
step('open for writing', () => fd.push(fs.openSync('later', O_CREAT | O_RDWR, 0o644)), 'later');
step('chmod 000', () => fs.chmodSync('later', 0), 'later');
step('write after chmod', () => fs.writeSync(fd[1], Buffer.alloc(5000, 121)), 'later');
step('ftruncate after chmod', () => fs.ftruncateSync(fd[1], 3000), 'later');
step('close after chmod', () => fs.closeSync(fd[1]), 'later');
step('reopen after chmod', () => fs.closeSync(fs.openSync('later', O_RDONLY)), 'later');
step('chmod back', () => fs.chmodSync('later', 0o644), 'later');
step('open read-only', () => fd.push(fs.openSync('later', O_RDONLY)), 'later');
step('ftruncate read-only', () => fs.ftruncateSync(fd[2], 1), 'later');
fs.closeSync(fd[2]);
const data = fs.readFileSync('later');
console.log('content: ' + data.length + ' ' + data.subarray(0, 3).toString() + ' ' + data.subarray(-3).toString());
`;

describe('mount: rights of an open descriptor', () => {
  let mc: MountedCluster;
  beforeAll(async () => {
    mc = await startForUsers();
    await sh(`mkdir -m 1777 ${mc.mount.path('p')} ${mc.local}/p`);
    await writeFile(join(mc.local, 'steps.cjs'), program, { mode: 0o644 });
  });
  afterAll(async () => {
    await mc?.stop();
  });

  it('lets a descriptor opened for writing ftruncate and write whatever the mode is now, as a local filesystem does', async () => {
    const run = (dir: string): Promise<string> => sh(`${OTHER} ${process.execPath} ${mc.local}/steps.cjs ${dir}/p`);
    const local = await run(mc.local);
    const mounted = await run(mc.mount.dir);
    expect(local).toMatch(/^ftruncate it: ok size=100 mode=0$/m);
    expect(local).toMatch(/^write after chmod: ok /m);
    expect(local).toMatch(/^truncate it by path: EACCES/m);
    expect(mounted.split('\n')).toEqual(local.split('\n'));
  });
});
