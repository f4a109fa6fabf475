/**
 * Chunkservers and the master over the heartbeat stream, all real processes: a chunkserver keeps
 * its identity across restarts; a chunk the master issued and no longer knows is deleted from
 * disk, while one it never issued (its id is at or above the next chunk id) is kept for fsck; a
 * replica that missed a write comes back with an older version, is recorded as stale, and is never
 * handed to clients while reads keep returning the new data.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { adminStatus } from '../helpers/cli.js';
import { chunkIdsOnDisk } from '../helpers/files.js';
import { openDb } from '../helpers/master-db.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { chunkserverTlsAsMaster, loadCredentialsFor } from '../helpers/credentials.js';

describe('chunk reports', () => {
  let cluster: ProcessCluster | undefined;
  let client: FstClient | undefined;
  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await cluster?.stop();
    client = cluster = undefined;
  });

  it('keeps a chunkserver identity across restarts; deletes reported chunks it issued and no longer knows, keeps those it never issued', async () => {
    cluster = await startProcessCluster({ chunkservers: 1, replication: 1 });
    const before = (await adminStatus(cluster.masterAddress)).servers;
    expect(before).toHaveLength(1);
    // Chunk 1 is issued to a file, which is then deleted: garbage collection removes its copy.
    client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
    await client.writeFile('/gone', randomBytes(100_000)); // past the inline limit: in a chunk
    await client.unlink('/gone');
    const dataDir = cluster.chunkservers[0]!.dataDir;
    await waitFor('deleted file collected', async () => (await chunkIdsOnDisk(dataDir)).length === 0);
    // Chunks created behind the master's back: id 1 was issued (its file is gone), `foreign` never
    // was: the id after the next one the master will issue.
    const db = await openDb(cluster);
    const foreign = (await db.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_chunk_id'"))!.value + 1;
    await db.close();
    const cs = new RpcClient(cluster.chunkservers[0]!.process.address, { tls: await chunkserverTlsAsMaster(cluster.masterAddress) });
    for (const chunkId of [1, foreign]) await cs.unary(ChunkserverMethods.SetChunkVersion, { chunkId, version: 0, newVersion: 1, create: true });
    cs.close();
    // The next beats report both (in one beat or two: a beat may fall between the two calls): 1 is
    // deleted, `foreign` kept with a warning.
    const warnings = (): number => cluster!.master.logTail().match(/never issued/g)?.length ?? 0;
    await waitFor('issued orphan deleted', async () => !(await chunkIdsOnDisk(dataDir)).includes(1));
    await waitFor('the warning about the chunk never issued', () => warnings() >= 1);
    expect(await chunkIdsOnDisk(dataDir)).toEqual([foreign]);
    expect(warnings()).toBe(1);
    // A full report (a new stream starts with one) keeps it too.
    await cluster.restartChunkserver(0);
    await waitFor('full report applied', () => warnings() >= 2);
    expect(await chunkIdsOnDisk(dataDir)).toEqual([foreign]);
    // Its id is never issued: a new chunk meeting its old bytes would read them as its own. The
    // two next chunks take the ids on either side of it.
    const ids: number[] = [];
    for (const name of ['/new', '/newer']) {
      await client.writeFile(name, randomBytes(100_000));
      ids.push((await client.meta.locateChunks((await client.stat(name)).ino, 0, 1000)).chunks[0]!.chunkId);
    }
    expect(ids).toEqual([foreign - 1, foreign + 1]);
    expect(await chunkIdsOnDisk(dataDir)).toContain(foreign);
    const after = (await adminStatus(cluster.masterAddress)).servers;
    expect(after).toHaveLength(1);
    expect(after[0]!.serverId).toBe(before[0]!.serverId);
  });

  it('records a replica that missed a write as stale and never serves it', async () => {
    // Re-replication paused: it would delete the stale replica and copy the chunk back at once
    // (test/cluster/replication.test.ts covers that).
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2, masterArgs: ['--replication-interval-ms', '3600000'] });
    client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
    const v1 = randomBytes(3 << 20);
    await client.writeFile('/f', v1);
    expect((await adminStatus(cluster.masterAddress)).health).toMatchObject({ healthy: 1, staleReplicas: 0 });

    // Server 1 goes away; the overwrite moves the chunk to a new version on server 0 only.
    await cluster.chunkservers[1]!.process.stop();
    await waitFor('server 1 dead', async () => ((await adminStatus(cluster!.masterAddress)).servers.some((s) => s.state === 'dead') ? true : undefined));
    const v2 = randomBytes(3 << 20);
    const fh = await client.open('/f', { write: true });
    await fh.write(0, v2);
    await fh.close();

    await cluster.restartChunkserver(1);
    const st = await waitFor('stale replica recorded', async () => {
      const s = await adminStatus(cluster!.masterAddress);
      return s.servers.every((x) => x.state === 'alive') && s.health.staleReplicas === 1 ? s : undefined;
    });
    expect(st.health).toMatchObject({ healthy: 0, underReplicated: 1, missing: 0, staleReplicas: 1 });

    // Only the up-to-date replica is handed out, and reads return the new bytes.
    const ino = (await client.stat('/f')).ino;
    const loc = await client.meta.locateChunks(ino, 0, 1);
    expect(loc.chunks[0]!.replicas.map((r) => r.address)).toEqual([cluster.chunkservers[0]!.process.address]);
    const fresh = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await fresh.connect();
    expect((await fresh.readFile('/f')).equals(v2)).toBe(true);
    await fresh.close();
    // Even asked directly with the master's version, the stale server refuses (ESTALE).
    const stale = new RpcClient(cluster.chunkservers[1]!.process.address, { tls: await chunkserverTlsAsMaster(cluster.masterAddress) });
    const gen = stale.serverStream(ChunkserverMethods.ReadChunk, { chunkId: loc.chunks[0]!.chunkId, version: loc.chunks[0]!.version, offset: 0, length: 10 });
    await expect((async () => { for await (const _ of gen) { /* drain */ } })()).rejects.toMatchObject({ code: 'ESTALE' });
    stale.close();
  });

  it('marks a chunkserver that stops beating dead, and alive again when it resumes', async () => {
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2 });
    const frozen = cluster.chunkservers[1]!.process;
    // SIGSTOP keeps its connections open but silences it: only the missed beats can tell.
    process.kill(frozen.pid, 'SIGSTOP');
    try {
      const st = await waitFor('frozen server dead', async () => {
        const s = await adminStatus(cluster!.masterAddress);
        return s.servers.find((x) => x.address === frozen.address)?.state === 'dead' ? s : undefined;
      });
      expect(st.servers.filter((x) => x.state === 'alive')).toHaveLength(1);
    } finally {
      process.kill(frozen.pid, 'SIGCONT');
    }
    await cluster.waitForChunkservers(2);
  });
});

