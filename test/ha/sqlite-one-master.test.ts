/**
 * SQLite metadata takes one master: a second fst-master started on the same data directory is
 * refused with a message pointing at PostgreSQL, while the first keeps serving; a master killed -9
 * leaves its claim behind, and the next one started on the directory takes it over.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adminStatus } from '../helpers/cli.js';
import { DaemonProcess } from '../helpers/daemon-process.js';

const masterArgs = (dir: string): string[] => ['--data', dir, '--listen', '127.0.0.1:0', '--insecure'];

describe('SQLite metadata: one master per data directory', () => {
  const procs: DaemonProcess[] = [];
  let dir: string | undefined;
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('refuses a second master on the same data directory and takes over the claim of a killed one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fst-sqlite-one-'));
    const data = join(dir, 'data');
    const first = await DaemonProcess.start('fst-master-1', 'fst-master.js', masterArgs(data));
    procs.push(first);
    const second = DaemonProcess.start('fst-master-2', 'fst-master.js', masterArgs(data));
    await expect(second).rejects.toThrow(/exited with 1 before listening[\s\S]*another fst-master \(pid \d+\) uses the SQLite metadata[\s\S]*PostgreSQL/);
    expect((await adminStatus(first.address)).masters).toEqual([{ address: first.address, role: 'active', leaseAgeMs: 0, epoch: 0 }]);

    await first.kill();
    const third = await DaemonProcess.start('fst-master-3', 'fst-master.js', masterArgs(data));
    procs.push(third);
    expect((await adminStatus(third.address)).engine).toBe('sqlite');
  });
});
