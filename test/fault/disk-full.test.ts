/**
 * Full disks: two chunkservers (replication 2) whose data directories are 160 MiB tmpfs mounts.
 * A file written until the space runs out fails with ENOSPC (at write, fsync or close, where the
 * buffered data reaches the chunkservers), never silently; the files written before still read
 * back intact; once the big file is removed and collected, writes succeed again.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, statfs, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256File, writeRandomFile } from '../helpers/files.js';
import { FuseMount, isMounted } from '../helpers/fuse-mount.js';
import { waitFor, WAIT_MS } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const DISK_MIB = 160;

/** Writes 1 MiB pieces to `path` until something fails (or `maxBytes`), then fsync and close. */
async function fillUntilError(path: string, maxBytes: number): Promise<{ written: number; code: string; op: string }> {
  const fh = await open(path, 'w');
  let written = 0;
  let failure: { code: string; op: string } | undefined;
  const fail = (op: string) => (e: unknown): void => {
    failure ??= { code: (e as NodeJS.ErrnoException).code ?? String(e), op };
  };
  try {
    while (!failure && written < maxBytes) {
      const piece = randomBytes(MiB);
      await fh.write(piece, 0, piece.length, written).then(() => (written += piece.length), fail('write'));
    }
    if (!failure) await fh.sync().catch(fail('fsync'));
  } finally {
    await fh.close().catch(fail('close'));
  }
  return { written, ...(failure ?? { code: 'no error', op: '' }) };
}

describe('fault: chunkserver disks full', () => {
  let base: string | undefined;
  const disks: string[] = [];
  let cluster: ProcessCluster | undefined;
  let mount: FuseMount | undefined;
  afterEach(async () => {
    await mount?.stop();
    await cluster?.stop();
    for (const d of disks.splice(0)) {
      if (await isMounted(d)) await run('umount', [d]).catch(() => run('umount', ['-l', d]));
    }
    if (base) await rm(base, { recursive: true, force: true });
    base = cluster = mount = undefined;
  });

  it('fails a write with ENOSPC, keeps earlier files, and writes again after the space is freed', async () => {
    base = await mkdtemp(join(tmpdir(), 'fst-full-'));
    for (let i = 0; i < 2; i++) {
      const d = join(base, `disk${i}`);
      await mkdir(d);
      await run('mount', ['-t', 'tmpfs', '-o', `size=${DISK_MIB}m`, 'tmpfs', d]);
      disks.push(d);
    }
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2, chunkserverDataDir: (i) => disks[i] });
    for (const [i, d] of disks.entries()) expect(cluster.chunkservers[i]!.dataDir).toBe(d);
    mount = await FuseMount.start(cluster.masterAddress);

    const kept = new Map<string, string>();
    for (let i = 0; i < 3; i++) kept.set(`small${i}`, await writeRandomFile(mount.path(`small${i}`), 8 * MiB + i * 1000));

    const big = await fillUntilError(mount.path('big'), 3 * DISK_MIB * MiB);
    expect(big.code, `after ${big.written / MiB} MiB written, at ${big.op}`).toBe('ENOSPC');
    // It got somewhere near the capacity first (the earlier 24 MiB took their share).
    expect(big.written).toBeGreaterThan(32 * MiB);

    for (const [name, sum] of kept) expect(await sha256File(mount.path(name)), name).toBe(sum);
    const fresh = await FuseMount.start(cluster.masterAddress);
    try {
      for (const [name, sum] of kept) expect(await sha256File(fresh.path(name)), `${name} through a fresh mount`).toBe(sum);
    } finally {
      await fresh.stop();
    }

    await unlink(mount.path('big'));
    // The chunkservers delete the big file's chunks (GC every second): both disks have room again.
    await waitFor('space freed on both disks', async () => {
      const free = await Promise.all(disks.map(async (d) => { const s = await statfs(d); return s.bavail * s.bsize; }));
      return free.every((f) => f > (DISK_MIB - 40) * MiB) ? true : undefined;
    }, WAIT_MS, 250);
    // The master learns it from the heartbeats; a new file may be refused until then.
    const after = await waitFor('a 32 MiB file written after the space came back', async () => {
      const sum = await writeRandomFile(mount!.path('after'), 32 * MiB);
      return sum;
    }, WAIT_MS, 500);
    expect(await sha256File(mount.path('after'))).toBe(after);
    for (const [name, sum] of kept) expect(await sha256File(mount.path(name)), name).toBe(sum);
  });
});
