/**
 * PostgreSQL failover under a workload (issue 16): fst-master keeps its metadata on a
 * pg_auto_failover formation (a primary and its synchronous standby, test/helpers/pg-failover.ts)
 * through the multi-host URL with target_session_attrs=read-write. The primary's node is killed
 * (kill -9 of pg_autoctl and PostgreSQL) while a mount writes small files, each fsynced; once the
 * monitor has promoted the standby the same master, never restarted, goes on. The killed node is
 * started again, rejoins as the standby, and the failover is repeated the other way. While there is
 * no primary, operations fail with EIO only (and are retried); every file whose fsync succeeded
 * reads back byte-identical through a fresh mount.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../helpers/cleanup.js';
import { FuseMount } from '../helpers/fuse-mount.js';
import { collectFailures, FSYNC_WORKLOAD } from '../helpers/fsync-workload.js';
import { PgFailoverCluster, type NodeName } from '../helpers/pg-failover.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster } from '../helpers/process-cluster.js';

/** The primary is killed once this many files are fsynced. */
const KILL_AT = 60;
/** Files fsynced after each promotion before the test goes on. */
const AFTER = 50;



describe('ha: PostgreSQL failover (pg_auto_failover) under a small-file workload', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('goes on after the standby is promoted, both ways, and keeps every fsynced file', async () => {
    const pgaf = cleanup.stops(await PgFailoverCluster.start());
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--meta', pgaf.url] }));
    const masterPid = cluster.master.pid;
    // A short master-timeout (the mount's retry window for UNAVAILABLE, 60 s by default, which
    // would hide a failover of seconds) lets the outage reach the application as EIO, which the
    // workload retries: the path an outage longer than the window takes.
    const mount = cleanup.stops(await FuseMount.start(cluster.masterAddress, ['--master-timeout', '2']));
    const ref = await mkdtemp(join(tmpdir(), 'fst-ref-'));
    cleanup.add(() => rm(ref, { recursive: true, force: true }));
    await writeFile(join(ref, 'workload.cjs'), FSYNC_WORKLOAD);
    await mkdir(mount.path('w'));
    await mkdir(join(ref, 'files'));

    const child = spawn(process.execPath, [join(ref, 'workload.cjs'), mount.path('w'), join(ref, 'files'), '0', join(ref, 'stop'), join(ref, 'pause'), '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.add(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const failures = collectFailures(child.stderr!);
    const recorded: { name: string; at: number }[] = [];
    createInterface({ input: child.stdout }).on('line', (name) => recorded.push({ name, at: Date.now() }));
    const summary = (): string => `failures: ${JSON.stringify(failures.slice(0, 20))}`;
    /** Waits for the workload to get as far as `done` says (failing early, with why, if it ended). */
    const progress = (what: string, done: () => boolean): Promise<unknown> =>
      waitFor(what, () => {
        if (child.exitCode !== null) throw new Error(`the workload ended early (${child.exitCode}); ${summary()}`);
        return done();
      }, 120_000);

    const failovers: { from: NodeName; to: NodeName; killedAt: number; promotedAt: number; pause: number }[] = [];
    const failOver = async (from: NodeName, to: NodeName): Promise<void> => {
      const before = recorded.length;
      const killedAt = Date.now();
      pgaf.kill(from);
      await waitFor(`${to} promoted to primary`, () => pgaf.takesWrites(to), 120_000, 100);
      const promotedAt = Date.now();
      await progress(`${AFTER} files fsynced after ${to} was promoted`, () => recorded.filter((r) => r.at > promotedAt).length >= AFTER);
      const pauses = recorded.slice(before).map((r, i) => r.at - recorded[before - 1 + i]!.at);
      failovers.push({ from, to, killedAt, promotedAt, pause: Math.max(...pauses) });
    };

    await progress(`${KILL_AT} files`, () => recorded.length >= KILL_AT);
    await failOver('n1', 'n2');
    // The old primary comes back: pg_autoctl rewinds it and it follows n2. The workload waits
    // meanwhile (the time this takes varies, and every file written is read back at the end).
    await writeFile(join(ref, 'pause'), '');
    pgaf.restart('n1');
    await pgaf.waitForStandby('n1', 'n2');
    await rm(join(ref, 'pause'));
    const resumed = recorded.length;
    await progress('the workload going again', () => recorded.length >= resumed + 10);
    await failOver('n2', 'n1');
    await writeFile(join(ref, 'stop'), '');
    const code = await exited;

    expect(code, summary()).toBe(0);
    expect(failovers.map((f) => `${f.from}->${f.to}`)).toEqual(['n1->n2', 'n2->n1']);
    expect(cluster.master.running, 'fst-master outlived both failovers').toBe(true);
    expect(cluster.master.pid).toBe(masterPid);
    expect(new Set(recorded.map((r) => r.name)).size).toBe(recorded.length);
    // While there was no primary, operations failed, with EIO only, and were retried.
    expect(failures.length, 'the outages reached the workload').toBeGreaterThan(0);
    expect(failures.filter((f) => f.code !== 'EIO'), summary()).toEqual([]);
    // The same master process lost its writer connection and made a new one to the new primary,
    // each time: by reconnecting its writer, or, when the outage outlasted its master lease
    // (master/ha/), by starting again in the same process and taking its lease back.
    const reconnects = cluster.master.tail.filter((l) => l.includes('writer reconnected') || l.includes('started again after losing the master lease'));
    expect(reconnects.length, cluster.master.tail.slice(-20).join('\n')).toBeGreaterThanOrEqual(2);
    for (const f of failovers) {
      console.log(`failover ${f.from}->${f.to}: ${f.to} took writes ${f.promotedAt - f.killedAt} ms after ${f.from} was killed; the workload's longest pause ${f.pause} ms`);
    }
    console.log(`${recorded.length} files, ${failures.length} failed attempts; master: ${reconnects.join(' ')}`);

    // Every recorded file, read through a mount that never saw it written (no cache of it).
    const fresh = cleanup.stops(await FuseMount.start(cluster.masterAddress));
    for (const { name } of recorded) {
      const want = await readFile(join(ref, 'files', name));
      const got = await readFile(fresh.path(`w/${name}`));
      expect(got.equals(want), `${name}: ${got.length} bytes read, ${want.length} written`).toBe(true);
    }
    // The metadata is on the primary now, n1 again: every fsynced file has its dentry there.
    const rows = await pgaf.sql('n1', "SELECT COUNT(*)::int AS n FROM dentries WHERE name LIKE 'f%'");
    expect(rows.rows[0]?.n).toBe(recorded.length);
  });
});
