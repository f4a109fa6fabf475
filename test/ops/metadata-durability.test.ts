/**
 * fsync's promise covers the metadata: the master's machine loses power, simulated by putting back
 * exactly what had surely reached its disk (the database file, never checkpointed here, and the
 * write-ahead log up to the length of its last sync, which the master notes in crash-test mode:
 * FST_CRASH_TEST_SYNC_LOG) and starting a master on that. A file fsync'ed reads back whole; a file
 * only closed after the last sync may lose its last size change (or be gone, if made after it),
 * never its earlier data: whatever size it comes back with, its bytes are the ones written there.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, cp, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { toFsError } from '../../src/common/errors/to-errno.js';
import { Cleanup } from '../helpers/cleanup.js';
import { copyIdentity, loadCredentialsFor } from '../helpers/credentials.js';
import { ON_POSTGRES } from '../helpers/meta-engine.js';
import { sha256 } from '../helpers/files.js';
import { startProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** The data directory as the disk held it: the database, the log cut at its last sync, the identity. */
async function diskState(dataDir: string, syncLog: string, into: string): Promise<number> {
  const synced = (await readFile(syncLog, 'utf8')).trim().split('\n').map(Number);
  const length = synced[synced.length - 1]!;
  await mkdir(into, { recursive: true });
  await copyFile(join(dataDir, 'meta.sqlite3'), join(into, 'meta.sqlite3'));
  const wal = await readFile(join(dataDir, 'meta.sqlite3-wal'));
  const out = await open(join(into, 'meta.sqlite3-wal'), 'w');
  await out.write(wal.subarray(0, length));
  await out.close();
  await copyIdentity(dataDir, into);
  return length;
}

// SQLite only: the power cut is simulated on SQLite's files (its database and write-ahead log up
// to its last sync); PostgreSQL's durability is its own (a COMMIT returns once its WAL is flushed).
describe.skipIf(ON_POSTGRES)('metadata durability across a power cut of the master (SQLite files: not run on PostgreSQL)', () => {
  it('keeps every fsync; closed-only files lose at most their last size change', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2 }));
    // A second start of the master, in crash-test mode, on a data directory of its own.
    const syncLog = join(cluster.root, 'wal-syncs.log');
    const master = cluster.masterAddress;
    await cluster.master.stop();
    (cluster.opts.masterEnv as NodeJS.ProcessEnv).FST_CRASH_TEST_SYNC_LOG = syncLog;
    await cluster.startMaster(master);
    await cluster.waitForChunkservers(3);
    let client = new FstClient({ master, credentials: await loadCredentialsFor(master) });
    await client.connect();
    cleanup.add(() => client.close().catch(() => undefined));

    // Closed before the fsync below (so that sync covers it too), then fsync'ed, then closed only.
    const early = randomBytes(3 * MiB);
    await client.writeFile('/early.bin', early);
    const kept = randomBytes(5 * MiB);
    const h = await client.open('/kept.bin', { create: true, write: true });
    await h.write(0, kept);
    await h.fsync();
    await h.close();
    const appended = randomBytes(2 * MiB);
    const a = await client.open('/kept.bin', { write: true });
    await a.write(kept.length, appended);
    await a.close();
    const late = randomBytes(MiB);
    await client.writeFile('/late.bin', late);

    // Power cut: only what had reached the master's disk remains.
    const crashed = join(cluster.root, 'master-after-power-cut');
    await cluster.master.kill();
    await diskState(cluster.masterDataDir, syncLog, crashed);
    await rm(cluster.masterDataDir, { recursive: true, force: true });
    await cp(crashed, cluster.masterDataDir, { recursive: true });
    delete (cluster.opts.masterEnv as NodeJS.ProcessEnv).FST_CRASH_TEST_SYNC_LOG;
    await client.close();
    await cluster.startMaster(master);
    await cluster.waitForChunkservers(3);
    client = new FstClient({ master, credentials: await loadCredentialsFor(master) });
    await client.connect();

    expect(sha256(await client.readFile('/early.bin'))).toBe(sha256(early));
    const back = await client.readFile('/kept.bin');
    // The fsync'ed 5 MiB are there whole; the append after it may or may not be.
    expect([kept.length, kept.length + appended.length]).toContain(back.length);
    expect(sha256(back)).toBe(sha256(Buffer.concat([kept, appended]).subarray(0, back.length)));
    const lateBack = await client.readFile('/late.bin').catch((e: unknown) => toFsError(e).code);
    if (typeof lateBack === 'string') expect(lateBack).toBe('ENOENT');
    else expect(sha256(lateBack)).toBe(sha256(late.subarray(0, lateBack.length)));
  });
});
