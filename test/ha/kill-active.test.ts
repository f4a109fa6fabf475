/**
 * Two masters on one PostgreSQL database, three chunkservers and a mount given both addresses:
 * the active master is killed (SIGKILL) while `cp -r` copies a source tree of a few thousand files
 * into the mount and a 500 MiB stream is written to it (test/helpers/ha-workload.ts). Both finish
 * without an error reaching the application; the copy matches (`diff -r`) and the stream's sha256
 * read back matches; `fstadmin status` names the other master active within 10 s of the kill, at
 * a higher epoch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../helpers/cleanup.js';
import { FuseMount } from '../helpers/fuse-mount.js';
import { HaCluster } from '../helpers/ha-cluster.js';
import { CopyAndWrite } from '../helpers/ha-workload.js';
import { usePostgres } from '../helpers/postgres.js';

const pg = usePostgres();

describe('several masters: the active one killed under a copy and a large write', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('finishes cp -r and a 500 MiB write without an error; the other master is active within 10 s', async () => {
    const cluster = cleanup.stops(await HaCluster.start({ meta: await pg.get().createDatabase() }));
    const [first, second] = cluster.masters.map((m) => m.address);
    const before = await cluster.waitForActive(first!);
    const epochBefore = before.masters.find((m) => m.role === 'active')!.epoch;
    expect(before.masters.map((m) => m.role)).toEqual(['active', 'standby']);
    expect(before.engine).toBe('postgres');

    const mount = cleanup.stops(await FuseMount.start(cluster.masterList));
    const scratch = await mkdtemp(join(tmpdir(), 'fst-ha-src-'));
    cleanup.add(() => rm(scratch, { recursive: true, force: true }));
    const work = await CopyAndWrite.start(mount.dir, scratch);
    expect(work.running, `both jobs running at the kill (${work.describe()})`).toBe(true);

    await cluster.masters[0]!.kill();
    const after = await cluster.waitForActive(second!, 10_000);
    expect(after.masters.find((m) => m.role === 'active')!.epoch).toBeGreaterThan(epochBefore);
    expect(work.anyRunning, `the workload still running at the takeover (${work.describe()})`).toBe(true);

    await work.finish();
  });
});
