/**
 * Two masters on one PostgreSQL database, three chunkservers and a mount given both addresses:
 * the active master is killed (SIGKILL) while `cp -r` copies a source tree of a few thousand files
 * into the mount and a 500 MiB stream is written to it. Both finish without an error reaching the
 * application; the copy matches (`diff -r`) and the stream's sha256 read back matches; `fstadmin
 * status` names the other master active within 10 s of the kill, at a higher epoch.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FuseMount, sh } from '../helpers/fuse-mount.js';
import { HaCluster } from '../helpers/ha-cluster.js';
import { usePostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/probes.js';
import { REPO_ROOT } from '../helpers/daemon-process.js';
import { statSync } from 'node:fs';

const pg = usePostgres();
const MiB = 1024 * 1024;
const BIG_MIB = 500;

/** A source tree of a few thousand files: FST's sources and three node_modules packages. */
const TREE_PARTS = ['src', 'node_modules/@grpc', 'node_modules/@typescript-eslint', 'node_modules/protobufjs'];

/** Runs `cmd` in bash; resolves with its exit code and stderr (the application's view of errors). */
function run(cmd: string): { done: Promise<{ code: number | null; stderr: string }>; finished: () => boolean } {
  const child = spawn('bash', ['-c', `set -o pipefail; ${cmd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let finished = false;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => {
    finished = true;
    resolve({ code, stderr });
  }));
  return { done, finished: () => finished };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

describe('several masters: the active one killed under a copy and a large write', () => {
  let cluster: HaCluster | undefined;
  let mount: FuseMount | undefined;
  let scratch: string | undefined;
  afterEach(async () => {
    await mount?.stop();
    await cluster?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
    mount = cluster = scratch = undefined;
  });

  it('finishes cp -r and a 500 MiB write without an error; the other master is active within 10 s', async () => {
    cluster = await HaCluster.start({ meta: await pg.get().createDatabase() });
    const [first, second] = cluster.masters.map((m) => m.address);
    const before = await cluster.waitForActive(first!);
    const epochBefore = before.masters!.find((m) => m.role === 'active')!.epoch;
    expect(before.masters!.map((m) => m.role).sort()).toEqual(['active', 'standby']);
    expect(before.engine).toBe('postgres');

    mount = await FuseMount.start(cluster.masterList);
    scratch = await mkdtemp(join(tmpdir(), 'fst-ha-src-'));
    const tree = join(scratch, 'tree');
    await sh(`mkdir -p ${tree} && ${TREE_PARTS.map((p) => `cp -r ${join(REPO_ROOT, p)} ${tree}/`).join(' && ')}`);
    const files = Number((await sh(`find ${tree} -type f | wc -l`)).trim());
    expect(files).toBeGreaterThan(2000);

    const write = run(`head -c ${BIG_MIB * MiB} /dev/urandom | tee >(sha256sum | cut -d' ' -f1 > ${scratch}/big.sha) > ${mount.path('big')}`);
    await waitFor('50 MiB written', () => sizeOf(mount!.path('big')) >= 50 * MiB, 120_000, 100);
    const copy = run(`cp -r ${tree} ${mount.path('tree')}`);
    // Kill once both are well under way.
    await waitFor('300 files copied', async () => Number((await sh(`find ${mount!.path('tree')} -type f 2>/dev/null | wc -l`)).trim()) >= 300, 120_000, 100);
    expect(copy.finished() || write.finished(), 'both still running at the kill').toBe(false);
    const killedAt = Date.now();
    await cluster.masters[0]!.kill();
    const after = await cluster.waitForActive(second!, 10_000);
    const tookOverMs = Date.now() - killedAt;
    expect(after.masters!.find((m) => m.role === 'active')!.epoch).toBeGreaterThan(epochBefore);

    expect(copy.finished() && write.finished(), 'still running at the takeover').toBe(false);
    const [copied, written] = await Promise.all([copy.done, write.done]);
    expect(copied, 'cp -r').toEqual({ code: 0, stderr: '' });
    expect(written, 'the 500 MiB write').toEqual({ code: 0, stderr: '' });
    await sh(`diff -r ${tree} ${mount.path('tree')}`, undefined, 300_000);
    const want = (await sh(`cat ${scratch}/big.sha`)).trim();
    const got = (await sh(`sha256sum ${mount.path('big')} | cut -d' ' -f1`, undefined, 300_000)).trim();
    expect(got).toBe(want);
    expect(statSync(mount.path('big')).size).toBe(BIG_MIB * MiB);
    console.log(`takeover seen by fstadmin status ${tookOverMs} ms after the kill`);
  });
});
