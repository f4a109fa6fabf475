/**
 * The master killed (SIGKILL) and restarted on the same port under a workload of small files
 * written through a mount: the workload keeps going once the master is back, without remounting;
 * every file whose fsync succeeded has exactly the bytes written, read through a fresh mount; and
 * the old mount still creates and reads new files.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { FuseMount } from '../helpers/fuse-mount.js';
import { collectFailures, FSYNC_WORKLOAD } from '../helpers/fsync-workload.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const FILES = 300;



describe('fault: master killed and restarted under a small-file workload', () => {
  let cluster: ProcessCluster | undefined;
  const mounts: FuseMount[] = [];
  let ref: string | undefined;
  let workloadPid: number | undefined;
  afterEach(async () => {
    if (workloadPid !== undefined) {
      try {
        process.kill(workloadPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const m of mounts.splice(0)) await m.stop();
    await cluster?.stop();
    if (ref) await rm(ref, { recursive: true, force: true });
    cluster = ref = workloadPid = undefined;
  });

  it('keeps fsynced files intact and the mount working across kill -9 of the master', async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    const mount = await FuseMount.start(cluster.masterAddress);
    mounts.push(mount);
    ref = await mkdtemp(join(tmpdir(), 'fst-ref-'));
    await writeFile(join(ref, 'workload.cjs'), FSYNC_WORKLOAD);
    await mkdir(mount.path('w'));
    await mkdir(join(ref, 'files'));

    const child = spawn(process.execPath, [join(ref, 'workload.cjs'), mount.path('w'), join(ref, 'files'), String(FILES), join(ref, 'stop'), join(ref, 'pause'), '10'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workloadPid = child.pid;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const failures = collectFailures(child.stderr!);
    const recorded: string[] = [];
    let backAt = -1; // index in `recorded` when the master was back
    let restart: Promise<void> | undefined;
    const oldAddress = cluster.masterAddress;
    const oldPid = cluster.master.pid;
    createInterface({ input: child.stdout! }).on('line', (name) => {
      recorded.push(name);
      if (recorded.length === 100) restart = cluster!.restartMaster('kill').then(() => { backAt = recorded.length; });
    });

    const code = await exited;
    await restart;
    const summary = `failures: ${JSON.stringify(failures.slice(0, 20))}`;
    expect(code, summary).toBe(0);
    expect(restart, 'the master was restarted while the workload ran').toBeDefined();
    expect(cluster.master.pid).not.toBe(oldPid);
    expect(cluster.masterAddress).toBe(oldAddress);
    expect(new Set(recorded).size).toBe(FILES);
    // The workload went on after the master came back: most files were written after that.
    expect(backAt).toBeGreaterThanOrEqual(100);
    expect(FILES - backAt, 'files fsynced after the master was back').toBeGreaterThanOrEqual(100);
    // While the master was away, operations waited or failed with EIO only (then were retried).
    expect(failures.filter((f) => f.code !== 'EIO'), summary).toEqual([]);

    // Every recorded file, read through a mount that never saw it written (no cache of it).
    const fresh = await FuseMount.start(cluster.masterAddress);
    mounts.push(fresh);
    for (const name of recorded) {
      const want = await readFile(join(ref, 'files', name));
      const got = await readFile(fresh.path(`w/${name}`));
      expect(got.equals(want), `${name}: ${got.length} bytes read, ${want.length} written`).toBe(true);
    }

    // The mount that lived through the restart creates and reads a new file.
    await writeFile(mount.path('after-restart'), 'still here');
    expect(await readFile(mount.path('after-restart'), 'utf8')).toBe('still here');
    expect(await readFile(fresh.path('after-restart'), 'utf8')).toBe('still here');
  });

  // Right after a restart the master knows no live chunkserver until their heartbeats reconnect
  // (a few hundred ms, with backoff). Operations in that window should wait, as they do while the
  // master itself is unreachable (--master-timeout), rather than fail at once.
  it('answers reads and fsyncs issued right after the master restarted, once the chunkservers are back', async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    const mount = await FuseMount.start(cluster.masterAddress);
    mounts.push(mount);
    const reader = await FuseMount.start(cluster.masterAddress); // never reads the file before the restart
    mounts.push(reader);
    const data = randomBytes(3 * 1024 * 1024);
    await writeFile(mount.path('before'), data);

    await cluster.restartMaster('kill');
    const [read, written] = await Promise.allSettled([
      readFile(reader.path('before')),
      (async () => {
        const fh = await open(mount.path('after'), 'w');
        try {
          await fh.write(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
      })(),
    ]);
    expect(read.status === 'fulfilled' ? read.value.equals(data) : String(read.reason), 'read right after the restart').toBe(true);
    expect(written.status === 'fulfilled' ? 'ok' : String(written.reason), 'write + fsync right after the restart').toBe('ok');
    expect((await readFile(reader.path('after'))).equals(data)).toBe(true);
  });
});
