/**
 * ReplicationManager in process, against a real master database and registry, with chunkserver
 * commands faked so that timing and failures are under the test's control: the order of copies
 * (one usable replica before two), targets never among the holders, stale replicas deleted before
 * copies, leased chunks untouched, the concurrency and byte-rate limits, the grace given to silent
 * servers (and to everyone right after the master starts), backoff after failures, and a stop()
 * that aborts the copies in flight. What must not happen is checked after an event showing that
 * the manager had its chance (a whole pass ran, a control manager passed ten times, stop() ended the
 * pass), never after a fixed sleep.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsError } from '../../src/common/errors/errno.js';
import { silentLogger } from '../../src/common/log/logger.js';
import type { ChunkserverCommands } from '../../src/master/chunks/chunkserver-commands.js';
import { ReplicationManager, type ReplicationOptions } from '../../src/master/chunks/replication.js';
import { MasterDb } from '../../src/master/db/database.js';
import { ServerRegistry } from '../../src/master/servers/registry.js';
import { waitFor, WAIT_MS } from '../helpers/probes.js';

const MiB = 1024 * 1024;
const TiB = 1024 ** 4;

interface CopyCall {
  target: string;
  chunkId: number;
  version: number;
  source: string;
  at: number;
}

/** Chunkserver commands that record calls; `copy` decides what each copy does. */
class FakeCommands {
  copies: CopyCall[] = [];
  deletes: { address: string; chunkId: number; version: number }[] = [];
  copy: (c: CopyCall, signal?: AbortSignal) => Promise<number> = () => Promise.resolve(MiB);

  copyChunk(target: string, req: { chunkId: number; version: number; source: string }, signal?: AbortSignal): Promise<number> {
    const call = { target, ...req, at: Date.now() };
    this.copies.push(call);
    return this.copy(call, signal);
  }

  deleteChunk(address: string, chunkId: number, version = 0): Promise<void> {
    this.deletes.push({ address, chunkId, version });
    return Promise.resolve();
  }

  setVersion(): Promise<{ length: number }> {
    return Promise.resolve({ length: 0 });
  }

  close(): void {}
}

/** Resolves when `signal` aborts, rejecting like an aborted RPC. */
const hangUntilAborted = (signal?: AbortSignal): Promise<number> =>
  new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new FsError('EINTR', 'aborted')), { once: true }));

describe('ReplicationManager', () => {
  let dir: string | undefined;
  let db: MasterDb | undefined;
  let manager: ReplicationManager | undefined;
  afterEach(async () => {
    await manager?.stop();
    await db?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    manager = db = dir = undefined;
  });

  /** A database with servers 1..`servers` (alive unless listed in `dead`, which beat `deadForMs` ago). */
  async function setup(servers: number, dead: number[] = [], deadForMs = 60_000): Promise<{ db: MasterDb; registry: ServerRegistry; commands: FakeCommands }> {
    dir = await mkdtemp(join(tmpdir(), 'fst-repl-mgr-'));
    db = await MasterDb.open({ dataDir: dir, defaultReplication: 2 });
    // Servers that beat once stay alive for the whole test, however slow the machine.
    const registry = new ServerRegistry(db, 10 * 60_000, silentLogger);
    await registry.load();
    for (let i = 1; i <= servers; i++) {
      const id = await registry.register({ uuid: `uuid-${i}`, address: `cs${i}:1`, rack: '', capacity: TiB, free: TiB });
      expect(id).toBe(i);
      registry.beat(id, { capacity: TiB, used: 0, free: TiB, load: 0, chunkCount: 0, io: { reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 } });
      registry.fullReportDone(id);
    }
    for (const id of dead) {
      registry.setConnected(id, false);
      registry.get(id)!.lastHeartbeatMs = Date.now() - deadForMs;
    }
    registry.stop();
    return { db, registry, commands: new FakeCommands() };
  }

  it('neither copies from nor trims on the word of a server whose full report is not applied yet', async () => {
    const { db: d, registry, commands } = await setup(3);
    await addChunk(d, 1, 1, [[1, 3], [2, 3]]); // goal 1, two copies: one is surplus
    await addChunk(d, 2, 2, [[3, 3]]); // below goal, only server 3 holds it
    registry.reportStarted(1);
    registry.reportStarted(3); // servers 1 and 3 reconnected; their reports are under way
    const m = start(d, registry, commands);
    await passCompleted(m);
    expect(commands.deletes).toEqual([]); // server 2's copy may be the only real one
    expect(commands.copies).toEqual([]); // server 3's copy may be gone
    registry.fullReportDone(1);
    registry.fullReportDone(3);
    // The counters move once the rows are written too: the fake commands are called before that.
    await waitFor('the surplus trimmed and the copy made', () => m.progress().trimmed === 1 && m.progress().copied === 1, WAIT_MS, 20);
    expect(commands.deletes).toMatchObject([{ chunkId: 1, version: 3 }]);
    expect(commands.copies).toMatchObject([{ chunkId: 2, source: 'cs3:1' }]);
    expect(await replicaRows(d, 1)).toHaveLength(1);
  });

  /**
   * Resolves once a pass has run to its end (the first one, when called right after start). A pass
   * sets lastPassMs when its scan ends and passes never overlap, so the scan of the next pass shows
   * that the first one is over; poke() brings the next pass forward, as a server transition does.
   */
  async function passCompleted(m: ReplicationManager): Promise<void> {
    const first = await waitFor('a pass', () => m.progress().lastPassMs || undefined, WAIT_MS, 10);
    m.poke();
    await waitFor('the pass after it', () => m.progress().lastPassMs! > first, WAIT_MS, 10);
  }

  /** Adds a one-chunk file with goal `goal`: chunk `chunkId` at `version`, replicas [server, version]. */
  async function addChunk(d: MasterDb, chunkId: number, goal: number, replicas: [number, number][], version = 3, leaseMs = 0): Promise<void> {
    await d.write(async (tx) => {
      await tx.run(`INSERT INTO inodes (ino, type, mode, uid, gid, nlink, size, atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, replication)
                    VALUES (?, 1, 420, 0, 0, 1, ?, 0, 0, 0, 0, 0, 0, ?)`, [1000 + chunkId, MiB, goal]);
      await tx.run('INSERT INTO chunks (ino, idx, chunk_id, version) VALUES (?, 0, ?, ?)', [1000 + chunkId, chunkId, version]);
      for (const [server, v] of replicas) await tx.run('INSERT INTO replicas (chunk_id, server_id, version) VALUES (?, ?, ?)', [chunkId, server, v]);
      if (leaseMs > 0) await tx.run('INSERT INTO leases (chunk_id, server_id, version, expires_ms) VALUES (?, ?, ?, ?)', [chunkId, replicas[0]![0], version, Date.now() + leaseMs]);
    });
  }

  const replicaRows = (d: MasterDb, chunkId: number): Promise<{ server_id: number; version: number }[]> =>
    d.reader.all('SELECT server_id, version FROM replicas WHERE chunk_id = ? ORDER BY server_id', [chunkId]);

  function start(d: MasterDb, registry: ServerRegistry, commands: FakeCommands, o: Partial<ReplicationOptions> = {}): ReplicationManager {
    manager = new ReplicationManager(
      { db: d, servers: registry, commands: commands as unknown as ChunkserverCommands, log: silentLogger, leaseMs: 1_000 },
      { replaceAfterMs: 1_000, rateBytesPerSec: 1024 * MiB, concurrency: 1, intervalMs: 20, ...o },
      (_ino, _idx, fn) => fn(),
    );
    manager.start();
    return manager;
  }

  it('copies chunks with one usable replica first, never to a holder, after deleting stale replicas; leaves leased chunks alone', async () => {
    const { db: d, registry, commands } = await setup(4, [4]);
    await addChunk(d, 1, 3, [[1, 3], [2, 3]]); // two usable, goal 3
    await addChunk(d, 2, 2, [[2, 3], [4, 3]]); // one usable: server 4 is gone
    await addChunk(d, 3, 3, [[3, 3]]); // one usable
    await addChunk(d, 4, 2, [[1, 3], [3, 3]]); // at goal
    await addChunk(d, 5, 2, [[1, 3], [2, 2]]); // one usable, a stale copy on server 2
    await addChunk(d, 6, 2, [[1, 3]], 3, 60_000); // leased: being written
    // No grace: server 4 counts as gone at once.
    const m = start(d, registry, commands, { replaceAfterMs: 1 });
    await waitFor('first pass done', () => m.progress().copied! >= 4, WAIT_MS, 10);

    expect(commands.copies.slice(0, 4).map((c) => c.chunkId)).toEqual([2, 3, 5, 1]);
    // Version-guarded, and only because a current replica (server 1) is alive.
    expect(commands.deletes).toEqual([{ address: 'cs2:1', chunkId: 5, version: 2 }]);
    for (const c of commands.copies) {
      expect(c.target).not.toBe('cs4:1');
      expect(c.source).not.toBe(c.target);
    }
    expect(commands.copies.find((c) => c.chunkId === 2)).toMatchObject({ source: 'cs2:1', version: 3 });
    expect(commands.copies.find((c) => c.chunkId === 1)!.target).toBe('cs3:1');
    expect(commands.copies.some((c) => c.chunkId === 6)).toBe(false);

    await waitFor('every chunk at goal', () => m.progress().copied === 5, WAIT_MS, 10);
    expect((await replicaRows(d, 1)).map((r) => r.server_id)).toEqual([1, 2, 3]);
    expect((await replicaRows(d, 2)).filter((r) => r.server_id !== 4)).toHaveLength(2);
    expect((await replicaRows(d, 5)).every((r) => r.version === 3)).toBe(true);
    expect(m.progress()).toMatchObject({ queued: 0, inFlight: 0, copied: 5, bytesCopied: 5 * MiB, failed: 0, staleDeleted: 1 });
    expect(m.progress().lastPassMs).toBeGreaterThan(0);
  });

  it('scans a healthy cluster rarely, and soon again when a corrupt replica is reported', async () => {
    const { db: d, registry, commands } = await setup(3);
    await addChunk(d, 1, 2, [[1, 3], [2, 3]]);
    const m = start(d, registry, commands, { intervalMs: 50 });
    // A pass with nothing to do ends in the task that ends its scan: its successor is scheduled by
    // the time lastPassMs is seen.
    const quietSince = await waitFor('first pass done', () => m.progress().lastPassMs || undefined, WAIT_MS, 10);
    // A control: the same loop over the same rows, but its registry has heard from no server (all
    // silent, within --replace-after-ms: nothing to copy), so it never goes quiet and passes every
    // 50 ms. Ten of its passes give the manager under test ten chances to pass too.
    const silent = new ServerRegistry(d, 10 * 60_000, silentLogger);
    await silent.load();
    silent.stop();
    const control = new ReplicationManager(
      { db: d, servers: silent, commands: new FakeCommands() as unknown as ChunkserverCommands, log: silentLogger, leaseMs: 1_000 },
      { replaceAfterMs: 3_600_000, rateBytesPerSec: 1024 * MiB, concurrency: 1, intervalMs: 50 },
      (_ino, _idx, fn) => fn(),
    );
    control.start();
    try {
      const controlPasses = new Set<number>();
      await waitFor('ten passes of the control', () => {
        const at = control.progress().lastPassMs!;
        if (at > quietSince) controlPasses.add(at);
        return controlPasses.size >= 10;
      }, WAIT_MS, 10);
    } finally {
      await control.stop();
    }
    // Nothing to do and every server alive: no pass every 50 ms.
    expect(m.progress().lastPassMs).toBe(quietSince);
    // A corrupt report (its replica row goes with `removed`): the next pass comes at once.
    await d.write((tx) => tx.run('DELETE FROM replicas WHERE chunk_id = 1 AND server_id = 2'));
    m.noteCorrupt(2, [1]);
    await waitFor('the chunk copied back', () => m.progress().copied === 1, WAIT_MS, 10);
    expect(commands.copies[0]).toMatchObject({ chunkId: 1, source: 'cs1:1' });
  });

  it('runs at most `concurrency` copies at once, and stop() aborts them promptly', async () => {
    const { db: d, registry, commands } = await setup(3);
    for (let id = 1; id <= 5; id++) await addChunk(d, id, 2, [[1, 3]]);
    commands.copy = (_, signal) => hangUntilAborted(signal);
    const m = start(d, registry, commands, { concurrency: 2 });
    await waitFor('two copies in flight', () => m.progress().inFlight === 2, WAIT_MS, 10);
    // The copies hang until aborted, so stop() returns only by aborting them; an abort takes
    // milliseconds even on a busy machine. stop() waits for the pass to end: every copy the pass
    // was going to start has been started by then.
    const t0 = Date.now();
    await m.stop();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(commands.copies).toHaveLength(2);
    expect(m.progress()).toMatchObject({ inFlight: 0, failed: 0, copied: 0 });
  });

  it('keeps to the byte rate: a copy starts only once the budget is back to zero', async () => {
    const { db: d, registry, commands } = await setup(3);
    for (let id = 1; id <= 5; id++) await addChunk(d, id, 2, [[1, 3]]);
    commands.copy = () => Promise.resolve(10 * MiB);
    // 20 MiB/s, a second of burst: copies 1-3 start at once, 4 and 5 each wait for 10 MiB.
    const m = start(d, registry, commands, { rateBytesPerSec: 20 * MiB });
    await waitFor('five copies', () => m.progress().copied === 5, WAIT_MS, 10);
    const at = commands.copies.map((c) => c.at - commands.copies[0]!.at);
    // Without the burst copy 3 could not start before 1 s (it would wait for copies 1 and 2).
    expect(at[2]).toBeLessThan(1_000);
    // The budget allows copy 4 no sooner than 0.5 s after copy 1, and copy 5 no sooner than 1 s,
    // however slow the machine.
    expect(at[3]).toBeGreaterThanOrEqual(450);
    expect(at[4]).toBeGreaterThanOrEqual(950);
  });

  it('gives a silent server --replace-after-ms to come back, counted from the master start at the earliest', async () => {
    // Server 3 has been silent for a minute, but this master has only just started.
    const { db: d, registry, commands } = await setup(4, [3]);
    await addChunk(d, 1, 2, [[1, 3], [3, 3]]);
    const t0 = Date.now();
    const m = start(d, registry, commands, { replaceAfterMs: 600 });
    await waitFor('copied once the grace ran out', () => m.progress().copied === 1, WAIT_MS, 10);
    expect(commands.copies[0]!.at - t0).toBeGreaterThanOrEqual(550);
    expect(['cs2:1', 'cs4:1']).toContain(commands.copies[0]!.target);
  });

  it('backs off after failed copies instead of retrying in a tight loop', async () => {
    const { db: d, registry, commands } = await setup(2);
    await addChunk(d, 1, 2, [[1, 3]]);
    commands.copy = () => Promise.reject(new FsError('EIO', 'disk on fire'));
    const m = start(d, registry, commands);
    // After its failures the chunk (and its only target) wait a second, then two: lower bounds,
    // which hold however slow the machine. Passes are poked all along, so that each poll is another
    // chance to retry (a pass that finds the only target backing off counts as having nothing to
    // do, and would otherwise wait for the quiet sweep).
    await waitFor('three attempts', () => {
      m.poke();
      return commands.copies.length >= 3;
    }, WAIT_MS, 20);
    const at = commands.copies.map((c) => c.at);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(1_950);
    expect(m.progress()).toMatchObject({ failed: commands.copies.length, copied: 0 });
  });

  it('does not record a copy when the chunk moved to another version meanwhile', async () => {
    const { db: d, registry, commands } = await setup(2);
    await addChunk(d, 1, 2, [[1, 3]]);
    commands.copy = async () => {
      await d.write((tx) => tx.run('UPDATE chunks SET version = 4 WHERE chunk_id = 1'));
      return MiB;
    };
    const m = start(d, registry, commands);
    await waitFor('copy made', () => commands.copies.length > 0 && m.progress().inFlight === 0, WAIT_MS, 10);
    expect(await replicaRows(d, 1)).toEqual([{ server_id: 1, version: 3 }]);
    expect(m.progress().copied).toBe(0);
  });
});
