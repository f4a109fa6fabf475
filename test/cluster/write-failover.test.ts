/**
 * Leases and write failover on real processes: writers sharing a chunk share one primary and one
 * version while its lease runs; a lease outlives a master restart (no second primary before it
 * ends, when the old primary cannot be reached); a write whose chain loses a chunkserver (kill -9)
 * completes on a new replica set with the goal's number of replicas; and with no replica set left
 * the write fails with EIO instead of hanging.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { FsError } from '../../src/common/errors/errno.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { uint64 } from '../../src/chunkserver/rpc/validate.js';
import { openDb } from '../helpers/master-db.js';
import { sha256 } from '../helpers/files.js';
import { codeOf, waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { chunkserverTlsAsMaster, loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;
const LEASE_MS = 2_000;

describe('leases and write failover', () => {
  let cluster: ProcessCluster | undefined;
  let client: FstClient | undefined;
  const stopped: number[] = [];
  afterEach(async () => {
    for (const pid of stopped.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await client?.close().catch(() => undefined);
    await cluster?.stop();
    client = cluster = undefined;
  });

  async function start(chunkservers: number, extra: string[] = []): Promise<FstClient> {
    cluster = await startProcessCluster({ chunkservers, replication: 2, masterArgs: ['--lease-ms', String(LEASE_MS), ...extra] });
    client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
    return client;
  }

  function chunkserverAt(address: string): number {
    const i = cluster!.chunkservers.findIndex((c) => c.process.address === address);
    expect(i).toBeGreaterThanOrEqual(0);
    return i;
  }

  it('hands writers of one chunk the same primary and version while the lease runs, a new version after', async () => {
    const c = await start(3);
    await c.writeFile('/shared', randomBytes(100_000)); // past the inline limit: in a chunk
    const ino = (await c.stat('/shared')).ino;
    const a = await c.meta.allocateChunk(ino, 0);
    const b = await c.meta.allocateChunk(ino, 0);
    // What is left of the lease granted when the file was written (more than half: not extended).
    expect(a.leaseMs).toBeGreaterThan(LEASE_MS / 2);
    expect(a.leaseMs).toBeLessThanOrEqual(LEASE_MS);
    expect(b.loc.version).toBe(a.loc.version);
    expect(b.loc.replicas[0]!.address).toBe(a.loc.replicas[0]!.address);
    // The master records how long the primary may believe it holds the lease (the grant's deadline
    // plus the lease): wait that out.
    const db = await openDb(cluster!);
    const lease = await db.get<{ expires_ms: number }>('SELECT expires_ms FROM leases WHERE chunk_id = ?', [a.loc.chunkId]);
    await db.close();
    expect(lease).toBeDefined();
    await waitFor('the recorded lease to run out', () => Date.now() > lease!.expires_ms, LEASE_MS + 60_000, 200);
    const later = await c.meta.allocateChunk(ino, 0);
    expect(later.loc.version).toBe(a.loc.version + 1);
  });

  it('after a master restart, grants no second primary until the old lease ends', async () => {
    const c = await start(3);
    await c.writeFile('/leased', randomBytes(100_000));
    const ino = (await c.stat('/leased')).ino;
    const first = await c.meta.allocateChunk(ino, 0);
    await cluster!.restartMaster('kill');
    await cluster!.waitForChunkservers(3);
    const db = await openDb(cluster!);
    const lease = await db.get<{ server_id: number; version: number; expires_ms: number }>('SELECT server_id, version, expires_ms FROM leases WHERE chunk_id = ?', [first.loc.chunkId]);
    await db.close();
    expect(lease?.version).toBe(first.loc.version);
    // The primary freezes: it still accepts connections, so the master cannot tell it is gone, and
    // must wait for the lease it recorded before the restart to run out.
    const primary = cluster!.chunkservers[chunkserverAt(first.loc.replicas[0]!.address)]!;
    process.kill(primary.process.pid, 'SIGSTOP');
    stopped.push(primary.process.pid);
    const failover = await c.meta.allocateChunk(ino, 0, { failedVersion: first.loc.version, timeoutMs: 120_000 });
    const answeredAt = Date.now();
    expect(answeredAt).toBeGreaterThanOrEqual(lease!.expires_ms);
    // At least one version on (two when the frozen primary's version change timed out: it may
    // still apply it when it wakes, so the others were moved once more, past it).
    expect(failover.loc.version).toBeGreaterThan(first.loc.version);
    expect(failover.loc.replicas.map((r) => r.address)).not.toContain(primary.process.address);
    // The goal is met again: the chunk was copied to the third server.
    expect(failover.loc.replicas).toHaveLength(2);
    process.kill(primary.process.pid, 'SIGCONT');
    expect((await c.readFile('/leased')).length).toBe(100_000);
    // Woken, the old primary may apply the version change it was sent while frozen and report it:
    // the others were moved past it, so it is never handed out as current. Wait until the master's
    // row for its copy says what it holds now (the version it answers with, asked after the calls
    // queued while it was frozen; none when re-replication has deleted its stale copy meanwhile).
    const chunkId = first.loc.chunkId;
    const serverId = first.loc.replicas[0]!.serverId;
    const woken = new RpcClient(primary.process.address, { tls: await chunkserverTlsAsMaster(cluster!.masterAddress) });
    const rows = await openDb(cluster!);
    try {
      const held = await waitFor('the master to know what the woken primary holds', async () => {
        const onServer = await woken.unary(ChunkserverMethods.GetChunkChecksums, { chunkId }).then(
          (r) => uint64(r.version),
          (e: unknown) => (e instanceof FsError && e.code === 'ENOENT' ? 0 : Promise.reject(e)),
        );
        const row = await rows.get<{ version: number }>('SELECT version FROM replicas WHERE chunk_id = ? AND server_id = ?', [chunkId, serverId]);
        if ((row?.version ?? 0) !== onServer) throw new Error(`it holds version ${onServer}, the master records ${row?.version ?? 'none'}`);
        return { version: onServer };
      });
      expect(held.version).toBeLessThan(failover.loc.version);
    } finally {
      woken.close();
      await rows.close();
    }
    const now = await c.meta.locateChunks(ino, 0, 1);
    expect(now.chunks[0]!.version).toBe(failover.loc.version);
    expect(now.chunks[0]!.replicas.map((r) => r.address)).not.toContain(primary.process.address);
  });

  it('completes a write whose chain loses a chunkserver to kill -9, on as many replicas as the goal', async () => {
    const c = await start(3);
    const data = randomBytes(150 * MiB);
    const h = await c.open('/big', { create: true, write: true });
    const piece = 4 * MiB;
    let killed: string | undefined;
    for (let at = 0; at < data.length; at += piece) {
      await h.write(at, data.subarray(at, at + piece));
      if (!killed && at >= 40 * MiB) {
        // The primary of the chunk being written now.
        const loc = (await c.meta.locateChunks(h.ino, at, 1)).chunks[0];
        const victim = loc?.replicas[0]?.address ?? cluster!.chunkservers[0]!.process.address;
        await cluster!.chunkservers[chunkserverAt(victim)]!.process.kill();
        killed = victim;
      }
    }
    await h.close();
    expect(killed).toBeDefined();
    expect(sha256(await c.readFile('/big'))).toBe(sha256(data));
    // Chunks written after the kill have two live replicas, none on the dead server.
    const located = await c.meta.locateChunks(h.ino, 64 * MiB, data.length);
    for (const chunk of located.chunks) {
      const addrs = chunk.replicas.map((r) => r.address);
      expect(new Set(addrs).size).toBe(2);
      expect(addrs).not.toContain(killed);
    }
  });

  it('fails a write with EIO when no replica set can be formed', async () => {
    const c = await start(2);
    const h = await c.open('/doomed', { create: true, write: true });
    await h.write(0, randomBytes(MiB));
    await h.fsync();
    for (const cs of cluster!.chunkservers) await cs.process.kill();
    await h.write(MiB, randomBytes(MiB));
    expect(await codeOf(h.fsync())).toBe('EIO');
    await h.close().catch(() => undefined);
  });
});
