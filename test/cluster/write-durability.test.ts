/**
 * What a write leaves behind, on real processes: a new chunk exists on its replicas as soon as it
 * is allocated, even if never written; a chunk allocated and never written can
 * still be grown, cut and written; data a client closed without fsync (on every replica, not yet fdatasync'ed)
 * survives kill -9 of every chunkserver; fsync through any handle, read-only ones included,
 * succeeds after other handles wrote and closed.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ChunkClient } from '../../src/client/chunk-client.js';
import { FstClient } from '../../src/client/fst-client.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { codeOf } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { chunkserverTls, chunkserverTlsAsMaster, loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;

describe('write durability and chunk creation', () => {
  let cluster: ProcessCluster | undefined;
  let client: FstClient | undefined;
  const rpcs: { close(): void }[] = [];
  afterEach(async () => {
    for (const r of rpcs.splice(0)) r.close();
    await client?.close().catch(() => undefined);
    await cluster?.stop();
    client = cluster = undefined;
  });

  async function start(chunkservers: number): Promise<FstClient> {
    cluster = await startProcessCluster({ chunkservers, replication: 2 });
    client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
    return client;
  }

  /** The chunk's version as one chunkserver holds it, or the errno it answers. */
  async function versionOn(address: string, chunkId: number): Promise<number | string> {
    const c = new RpcClient(address, { retryForMs: 0, tls: await chunkserverTlsAsMaster(cluster!.masterAddress) });
    rpcs.push(c);
    let version = -1;
    const code = await codeOf(c.unary(ChunkserverMethods.GetChunkChecksums, { chunkId }).then((r) => (version = Number(r.version))));
    return code === 'no error' ? version : code;
  }

  it('creates a new chunk on every replica before answering its allocation', async () => {
    const c = await start(2);
    const fh = await c.open('/f', { create: true, write: true });
    const ino = fh.ino;
    await fh.close();
    const { loc, created } = await c.meta.allocateChunk(ino, 0);
    expect(created).toBe(true);
    expect(loc.replicas).toHaveLength(2);
    // Never written, yet already there (empty) on both replicas.
    for (const r of loc.replicas) expect(await versionOn(r.address, loc.chunkId)).toBe(loc.version);
    // The first write goes through the chain as to any chunk.
    const chunks = new ChunkClient({ retryForMs: 0, tls: await chunkserverTls(cluster!.masterAddress) });
    rpcs.push(chunks);
    const data = randomBytes(100_000);
    await chunks.writeStream(loc, [{ offset: 0, data }]);
    for (const r of loc.replicas) {
      expect((await chunks.readRange({ ...loc, replicas: [r] }, 0, data.length)).equals(data)).toBe(true);
    }
  });

  it('cuts, grows and rewrites a file whose chunk was allocated and never written', async () => {
    const c = await start(2);
    const fh = await c.open('/never', { create: true, write: true });
    const ino = fh.ino;
    await fh.close();
    const { loc } = await c.meta.allocateChunk(ino, 0);
    // The file grows over the chunk, then shrinks into it (the boundary chunk is cut, moving on
    // from version 1).
    await c.truncate('/never', 5000);
    await c.truncate('/never', 4000);
    expect((await c.readFile('/never')).equals(Buffer.alloc(4000))).toBe(true);
    for (const r of loc.replicas) expect(await versionOn(r.address, loc.chunkId)).toBeGreaterThan(loc.version);
    // A write of the old version is refused (ESTALE), and the client allocates again.
    const data = randomBytes(3000);
    const w = await c.open('/never', { write: true });
    await w.write(1000, data);
    await w.close();
    const want = Buffer.alloc(4000);
    data.copy(want, 1000);
    expect((await c.readFile('/never')).equals(want)).toBe(true);
  });

  it('keeps data closed without fsync through kill -9 of every chunkserver', async () => {
    const c = await start(2);
    const files = new Map<string, Buffer>([
      ['/small', randomBytes(4096)],
      ['/odd', randomBytes(3 * MiB + 17)],
      ['/two-chunks', randomBytes(64 * MiB + 4 * MiB)],
    ]);
    for (const [path, data] of files) await c.writeFile(path, data);
    // Rewrite part of one, unsynced as well: its checksums change on both replicas.
    const patch = randomBytes(100_000);
    const h = await c.open('/odd', { write: true });
    await h.write(1_000_000, patch);
    await h.close();
    patch.copy(files.get('/odd')!, 1_000_000);

    for (const cs of cluster!.chunkservers) await cs.process.kill();
    for (const cs of cluster!.chunkservers) await cluster!.restartChunkserver(cs.index);
    await cluster!.waitForChunkservers(2);

    const fresh = new FstClient({ credentials: await loadCredentialsFor(cluster!.masterAddress), master: cluster!.masterAddress });
    rpcs.push({ close: () => void fresh.close() });
    await fresh.connect();
    for (const [path, data] of files) expect((await fresh.readFile(path)).equals(data), path).toBe(true);
  });

  it('fsyncs what other handles wrote and closed, through a read-only handle too', async () => {
    const c = await start(3);
    const data = randomBytes(2 * MiB);
    await c.writeFile('/f', data);
    const ro = await c.open('/f', { read: true });
    await ro.fsync();
    const rw = await c.open('/f', { write: true });
    await rw.write(0, Buffer.from('head'));
    await rw.fsync();
    await rw.close();
    await ro.close();
    data.write('head', 0);
    expect((await c.readFile('/f')).equals(data)).toBe(true);
  });
});
