/**
 * Re-replication on real processes: a chunkserver killed with kill -9 has its chunks copied to the
 * others once it has been dead for --replace-after-ms (the data reads back intact, and fstadmin
 * status shows the copies); a chunkserver that comes back with an older version of a chunk has that
 * replica deleted from its disk while the chunk stays at its goal; a replica found corrupt is
 * counted in the status and replaced by a copy of a healthy one; a chunkserver back within
 * --replace-after-ms costs no copy at all.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { FstClient } from '../../src/client/fst-client.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { adminStatus, runCli } from '../helpers/cli.js';
import { chunkIdsOnDisk, sha256File, writeRandomFile } from '../helpers/files.js';
import { codeOf, waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ChunkserverHandle, type ProcessCluster } from '../helpers/process-cluster.js';
import { chunkserverTlsAsMaster, loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;

const status = adminStatus;

/** Fast passes; short leases, since chunks under a lease are left to the write path. */
const FAST = ['--replication-interval-ms', '300', '--lease-ms', '2000'];

/** chunk id -> indexes of the chunkservers holding it on disk. */
async function holders(cluster: ProcessCluster, among: ChunkserverHandle[] = cluster.chunkservers): Promise<Map<number, number[]>> {
  const m = new Map<number, number[]>();
  for (const cs of among) for (const id of await chunkIdsOnDisk(cs.dataDir)) m.set(id, [...(m.get(id) ?? []), cs.index]);
  return m;
}

describe('re-replication', () => {
  let cluster: ProcessCluster | undefined;
  let client: FstClient | undefined;
  let local: string | undefined;
  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await cluster?.stop();
    if (local) await rm(local, { recursive: true, force: true });
    client = cluster = local = undefined;
  });

  it('copies the chunks of a chunkserver killed with kill -9 back to their goal', async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--replace-after-ms', '2000', ...FAST] });
    const master = cluster.masterAddress;
    local = await mkdtemp(join(tmpdir(), 'fst-repl-'));
    const digest = await writeRandomFile(join(local, 'big.bin'), 150 * MiB);
    const put = await runCli('fst', ['--master', master, 'put', join(local, 'big.bin'), '/big.bin']);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    const before = await holders(cluster);
    expect(before.size).toBe(3);
    expect((await status(master)).health).toMatchObject({ healthy: 3, underReplicated: 0 });

    // The server holding the most replicas dies without a word.
    const victim = [...cluster.chunkservers].sort((a, b) =>
      [...before.values()].filter((h) => h.includes(b.index)).length - [...before.values()].filter((h) => h.includes(a.index)).length)[0]!;
    const lost = [...before.values()].filter((h) => h.includes(victim.index)).length;
    expect(lost).toBeGreaterThan(0);
    await victim.process.kill();

    const st = await waitFor('every chunk back at its goal', async () => {
      const s = await status(master);
      const dead = s.servers.find((x) => x.address === victim.process.address)?.state === 'dead';
      return dead && s.health.healthy === 3 && s.health.underReplicated === 0 && s.replication.copied >= lost && s.replication.inFlight === 0 ? s : undefined;
    }, 90_000, 300);
    expect(st.replication.copied).toBe(lost);
    expect(st.replication.bytesCopied).toBeGreaterThan(0);
    expect(st.replication.lastPassMs).toBeGreaterThan(0);

    // Every chunk lies on both live servers (two distinct ones: goal 2, one server dead).
    const live = cluster.chunkservers.filter((c) => c !== victim);
    const after = await holders(cluster, live);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [id, on] of after) expect(on.sort(), `chunk ${id}`).toEqual(live.map((c) => c.index).sort());

    const get = await runCli('fst', ['--master', master, 'get', '/big.bin', join(local, 'back.bin')]);
    expect(get.code).toBe(0);
    expect(await sha256File(join(local, 'back.bin'))).toBe(digest);

    const human = await runCli('fstadmin', ['--master', master, 'status']);
    expect(human.stdout).toMatch(new RegExp(`replication: +0 queued, 0 in flight; since start ${lost} copied \\(.+\\), \\d+ failed, 0 stale deleted`));
  }, 180_000);

  it('deletes the stale replica of a chunkserver that missed a version change and keeps the chunk at its goal', async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--replace-after-ms', '600000', ...FAST] });
    const master = cluster.masterAddress;
    client = new FstClient({ credentials: await loadCredentialsFor(master), master });
    await client.connect();
    const v1 = randomBytes(3 * MiB);
    await client.writeFile('/f', v1);
    const [chunkId, on] = [...(await holders(cluster))][0]!;
    expect(on).toHaveLength(2);

    // One holder stops; the overwrite moves the chunk to a new version without it.
    const stale = cluster.chunkservers[on[0]!]!;
    await stale.process.stop();
    await waitFor('holder dead', async () => ((await status(master)).servers.find((x) => x.address === stale.process.address)?.state === 'dead' ? true : undefined));
    const patch = randomBytes(MiB);
    const fh = await client.open('/f', { write: true });
    await fh.write(0, patch);
    await fh.close();
    // A copy from the up-to-date replica brings the chunk back to 2 live replicas meanwhile.
    await waitFor('chunk at goal without the stopped server', async () => {
      const s = await status(master);
      return s.health.healthy === 1 ? s : undefined;
    }, 60_000, 300);

    await cluster.restartChunkserver(stale.index);
    // Back, with its old copy: never handed out, and it refuses to serve the current version.
    const ino = (await client.stat('/f')).ino;
    const current = (await client.meta.locateChunks(ino, 0, 1)).chunks[0]!;
    expect(current.replicas.map((r) => r.address)).not.toContain(stale.process.address);
    const direct = new RpcClient(stale.process.address, { retryForMs: 5_000, tls: await chunkserverTlsAsMaster(master) });
    try {
      const read = (async () => {
        for await (const _ of direct.serverStream(ChunkserverMethods.ReadChunk, { chunkId, version: current.version, offset: 0, length: MiB })) { /* drain */ }
      })();
      // ESTALE while it still holds the old version, ENOENT once it has been deleted.
      expect(['ESTALE', 'ENOENT']).toContain(await codeOf(read));
    } finally {
      direct.close();
    }
    const st = await waitFor('stale replica deleted', async () => {
      const s = await status(master);
      const back = s.servers.every((x) => x.state === 'alive');
      return back && s.replication.staleDeleted >= 1 && s.health.staleReplicas === 0 ? s : undefined;
    }, 60_000, 300);
    expect(st.health).toMatchObject({ healthy: 1, underReplicated: 0, missing: 0, stale: 0 });
    expect(await chunkIdsOnDisk(stale.dataDir)).not.toContain(chunkId);
    expect((await holders(cluster)).get(chunkId)).toHaveLength(2);

    const fresh = new FstClient({ credentials: await loadCredentialsFor(master), master });
    await fresh.connect();
    try {
      expect((await fresh.readFile('/f')).equals(Buffer.concat([patch, v1.subarray(MiB)]))).toBe(true);
    } finally {
      await fresh.close();
    }
  }, 180_000);

  it('counts a replica found corrupt and copies a healthy one in its place', async () => {
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2, masterArgs: ['--replace-after-ms', '600000', ...FAST] });
    const master = cluster.masterAddress;
    client = new FstClient({ credentials: await loadCredentialsFor(master), master });
    await client.connect();
    const data = randomBytes(3 * MiB);
    await client.writeFile('/rot', data);
    const loc = (await client.meta.locateChunks((await client.stat('/rot')).ino, 0, 1)).chunks[0]!;
    const bad = cluster.chunkservers[0]!;
    const fh = await open(chunkPaths(bad.dataDir, loc.chunkId).data, 'r+');
    try {
      await fh.write(Buffer.from([data[MiB + 5]! ^ 0xff]), 0, 1, MiB + 5);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Reading the rotten block makes the chunkserver drop its copy and report it.
    const cs = new RpcClient(bad.process.address, { tls: await chunkserverTlsAsMaster(master) });
    try {
      const read = (async () => {
        for await (const _ of cs.serverStream(ChunkserverMethods.ReadChunk, { chunkId: loc.chunkId, version: loc.version, offset: 0, length: data.length })) { /* drain */ }
      })();
      expect(await codeOf(read)).toBe('EIO');
    } finally {
      cs.close();
    }
    const st = await waitFor('corrupt replica replaced', async () => {
      const s = await status(master);
      return s.health.corruptReported === 1 && s.health.healthy === 1 && s.replication.copied === 1 ? s : undefined;
    }, 60_000, 300);
    expect(st.health).toMatchObject({ underReplicated: 0, missing: 0 });
    // Two chunkservers, goal 2: the healthy copy went back to the server that lost its own.
    expect(await chunkIdsOnDisk(bad.dataDir)).toContain(loc.chunkId);
    const fresh = new FstClient({ credentials: await loadCredentialsFor(master), master });
    await fresh.connect();
    try {
      expect((await fresh.readFile('/rot')).equals(data)).toBe(true);
    } finally {
      await fresh.close();
    }
  }, 180_000);

  it('copies nothing for a chunkserver back within --replace-after-ms', async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--replace-after-ms', '600000', ...FAST] });
    const master = cluster.masterAddress;
    client = new FstClient({ credentials: await loadCredentialsFor(master), master });
    await client.connect();
    await client.writeFile('/g', randomBytes(2 * MiB));
    const [, on] = [...(await holders(cluster))][0]!;
    const away = cluster.chunkservers[on[0]!]!;
    await away.process.stop();
    const down = await waitFor('holder dead', async () => {
      const s = await status(master);
      return s.servers.find((x) => x.address === away.process.address)?.state === 'dead' ? s : undefined;
    });
    // Under-replicated for now, but not fixable yet: the server may come back.
    expect(down.health).toMatchObject({ healthy: 0, underReplicated: 1 });
    const passed = down.replication.lastPassMs;
    await waitFor('two passes while it is away', async () => {
      const s = await status(master);
      return s.replication.lastPassMs > passed + 300 ? s : undefined;
    });
    expect((await status(master)).replication).toMatchObject({ queued: 0, copied: 0, inFlight: 0 });

    await cluster.restartChunkserver(away.index);
    const st = await waitFor('back', async () => {
      const s = await status(master);
      return s.health.healthy === 1 ? s : undefined;
    });
    expect(st.replication).toMatchObject({ copied: 0, failed: 0, staleDeleted: 0 });
  }, 180_000);
});
