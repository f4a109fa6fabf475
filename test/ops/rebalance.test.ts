/**
 * fstadmin rebalance on real processes: a fourth chunkserver joins a loaded 3-server cluster; the
 * job (stopped by Ctrl-C on the command, started again, interrupted by a kill -9 of the master and
 * resumed by the restarted master, then followed by the command) ends with every server's use within 10% of the mean, every file intact, and no
 * chunk below its goal at any moment of the move.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { Cleanup } from '../helpers/cleanup.js';
import { adminStatus, runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/daemon-process.js';
import { chunkIdsOnDisk, sha256 } from '../helpers/files.js';
import { openDb } from '../helpers/master-db.js';
import { waitFor, WAIT_MS } from '../helpers/probes.js';
import { startProcessCluster } from '../helpers/process-cluster.js';
import { belowGoal, chunkReplicas } from '../helpers/replica-counts.js';
import { loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;
const FILES = 40;

interface Rebalance { state: string; moved: number; bytesMoved: number; maxDeviation: number }

describe('fstadmin rebalance', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('spreads a loaded cluster over a new server, survives a master kill -9, and never leaves a chunk below its goal', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--replication-interval-ms', '500', '--lease-ms', '2000'] }));
    const master = cluster.masterAddress;
    const client = new FstClient({ credentials: await loadCredentialsFor(master), master });
    cleanup.add(() => client.close());
    await client.connect();
    const want = new Map<string, string>();
    for (let i = 0; i < FILES; i++) {
      const data = randomBytes((1 + (i % 6)) * MiB + i * 4096);
      await client.writeFile(`/f${i}`, data);
      want.set(`/f${i}`, sha256(data));
    }
    const fourth = await cluster.addChunkserver();
    await cluster.waitForChunkservers(4);
    const db = await openDb(cluster);
    cleanup.add(() => db.close());

    // Watch the rows all along: a chunk below its goal at any moment fails the test.
    let watching = true;
    let samples = 0;
    const violations: string[] = [];
    const watcher = (async () => {
      while (watching) {
        for (const c of await belowGoal(db).catch(() => [])) violations.push(`chunk ${c.chunkId}: ${c.current} < ${c.goal}`);
        samples++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    cleanup.add(async () => {
      watching = false;
      await watcher;
    });

    // Slow enough to be interrupted midway: about 70 MiB to move at 8 MiB/s. Ctrl-C on the
    // command that follows the job stops it.
    const follower = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'fstadmin.js'), '--master', master, '--credentials', cluster.credentials, 'rebalance', '--threshold', '10', '--rate-mib', '8'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.add(() => follower.exitCode === null && follower.kill('SIGKILL'));
    let followerErr = '';
    follower.stderr.on('data', (d: Buffer) => (followerErr += d.toString()));
    const followerExit = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
    await waitFor('a first move', async () => (await adminStatus(master)).rebalance.moved >= 1, WAIT_MS, 200);
    follower.kill('SIGINT');
    expect(await followerExit).toBe(130);
    expect(followerErr).toContain('run fstadmin rebalance again to resume');
    const interrupted = (await adminStatus(master)).rebalance;
    expect(interrupted.state).toBe('idle');

    // Run again (detached this time): it goes on from where the cluster stands.
    const detached = await runCli('fstadmin', ['--master', master, 'rebalance', '--rate-mib', '8', '--detach', '--json']);
    expect(detached.code, detached.stderr).toBe(0);
    expect((JSON.parse(detached.stdout) as Rebalance).state).toBe('running');
    await waitFor('a few moves', async () => (await adminStatus(master)).rebalance.moved >= 2, WAIT_MS, 200);

    await cluster.restartMaster('kill');
    await cluster.waitForChunkservers(4);
    // The restarted master resumes the recorded job by itself (it reads the job as it starts).
    await waitFor('the job resumed', async () => ['running', 'balanced'].includes((await adminStatus(master)).rebalance.state));

    // The command follows the job to its end (a quicker rate from now on). It balances to 5% by the
    // master's count of chunk bytes, so that the check below, within 10% by the bytes the servers
    // report on disk (block rounding, meta files, trims after the last moves), has room: a job
    // ended within 10% by its own count has been seen at 10.7% on disk.
    const followed = await runCli('fstadmin', ['--master', master, 'rebalance', '--threshold', '5', '--rate-mib', '100', '--json']);
    expect(followed.code, followed.stderr).toBe(0);
    const done = JSON.parse(followed.stdout) as Rebalance;
    expect(done.state).toBe('balanced');
    watching = false;
    await watcher;
    expect(samples).toBeGreaterThan(10);
    expect(violations).toEqual([]);

    // Used space per server within 10% of the mean, as the servers themselves report it (their
    // heartbeats after the last moves and trims).
    const used = await waitFor('every server within 10% of the mean use', async () => {
      const u = (await adminStatus(master)).servers.filter((s) => s.state === 'alive').map((s) => s.usedBytes);
      const mean = u.reduce((a, b) => a + b, 0) / u.length;
      if (u.length !== 4 || u.some((x) => Math.abs(x - mean) / mean > 0.1)) throw new Error(`used ${u.join(', ')}`);
      return u;
    });
    expect(used).toHaveLength(4);
    expect((await chunkIdsOnDisk(fourth.dataDir)).length).toBeGreaterThan(0);

    // Every chunk at its goal (no surplus either, once trimmed), every file's bytes unchanged.
    await waitFor('surplus trimmed', async () => (await chunkReplicas(db)).every((c) => c.current === c.goal), WAIT_MS, 200);
    for (const [path, hash] of want) expect(sha256(await client.readFile(path)), path).toBe(hash);
  });
});
