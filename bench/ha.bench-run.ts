/**
 * Several masters, one active: the time from an active master's kill -9 to the first successful
 * write of a client that was writing through it (a 1 MiB file through FstClient, given the list of
 * masters), against the same time for a single master on SQLite killed -9 and started again at
 * once on the same port (the baseline, measured in the same run). Each is measured ROUNDS times on
 * one cluster (the killed master of two comes back as the standby); the median is reported. Every
 * file written is read back and compared; nothing asserts on speed.
 *
 * Run: npm run bench -- bench/ha.bench-run.ts   (FST_BENCH_ROUNDS=3 by default)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FstClient } from '../src/client/fst-client.js';
import { loadCredentialsFor } from '../test/helpers/credentials.js';
import { HaCluster } from '../test/helpers/ha-cluster.js';
import { PgCluster } from '../test/helpers/postgres.js';
import { startProcessCluster, type ProcessCluster } from '../test/helpers/process-cluster.js';
import { printTable, type BenchRow } from './report.js';

const ROUNDS = Number(process.env.FST_BENCH_ROUNDS ?? 3);
const DATA = randomBytes(1024 * 1024);
const say = (line: string): void => void process.stdout.write(`  ${line}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: BenchRow[] = [];

/** A client that retries as a mount does (60 s), writing and reading back one file per call. */
async function withWriter<T>(master: string, credentials: Awaited<ReturnType<typeof loadCredentialsFor>> | undefined, fn: (write: (name: string) => Promise<void>) => Promise<T>): Promise<T> {
  const client = new FstClient({ master, credentials, retryForMs: 60_000 });
  await client.connect();
  try {
    return await fn(async (name) => {
      await client.writeFile(`/${name}`, DATA);
      expect((await client.readFile(`/${name}`)).equals(DATA)).toBe(true);
    });
  } finally {
    await client.close();
  }
}

/** Kills via `kill`, then times the first write that succeeds after it (its retries included). */
async function killToWrite(write: (name: string) => Promise<void>, round: number, kill: () => Promise<void>): Promise<number> {
  await write(`before-${round}`); // the client talks to the master about to die
  const t0 = performance.now();
  await kill();
  await write(`after-${round}`);
  return performance.now() - t0;
}

describe('several masters: kill -9 of the active master to the first successful write', () => {
  afterAll(() => {
    printTable('Kill -9 of the master to the first successful write (ms; ratio = takeover / restart, both in this run)', rows);
  });

  it('measures a restart of a single SQLite master, then a takeover of two masters on PostgreSQL', async () => {
    const restarts: number[] = [];
    let single: ProcessCluster | undefined;
    try {
      single = await startProcessCluster({ chunkservers: 3, replication: 2 });
      const c = single;
      await withWriter(c.masterAddress, await loadCredentialsFor(c.masterAddress), async (write) => {
        for (let i = 0; i < ROUNDS; i++) restarts.push(await killToWrite(write, i, () => c.restartMaster('kill')));
      });
    } finally {
      await single?.stop();
    }
    say(`SQLite master killed and started again: ${restarts.map((t) => t.toFixed(0)).join(', ')} ms`);

    const takeovers: number[] = [];
    const pg = await PgCluster.start();
    let ha: HaCluster | undefined;
    try {
      ha = await HaCluster.start({ meta: await pg.createDatabase() });
      const c = ha;
      await withWriter(c.masterList, undefined, async (write) => {
        for (let i = 0; i < ROUNDS; i++) {
          const active = i % 2;
          takeovers.push(await killToWrite(write, i, () => c.masters[active]!.kill()));
          await c.restartMaster(active, 'standby');
        }
      });
    } finally {
      await ha?.stop();
      await pg.stop();
    }
    say(`two masters on PostgreSQL, the active killed: ${takeovers.map((t) => t.toFixed(0)).join(', ')} ms (lease 5000 ms)`);
    rows.push({ workload: 'kill -9 to first write (median)', unit: 'ms', baselineName: 'sqlite restart', baseline: median(restarts), value: median(takeovers) });
  });
});
