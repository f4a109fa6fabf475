/**
 * Corrupt replicas: a copy whose bytes fail their checksum (found by a read, a peer's CopyChunk or
 * the scrubber) or whose meta file is unreadable is quarantined: its files are renamed `.corrupt`,
 * it leaves the server's index and its reports (the master forgets the replica), and the heartbeat
 * names it corrupt. Also the version guard of DeleteChunk.
 */
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods, MasterMethods } from '../../src/common/rpc/services.js';
import { ChunkStore } from '../../src/chunkserver/store/chunk-store.js';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { uint64 } from '../../src/chunkserver/rpc/validate.js';
import { startMaster } from '../../src/master/master.js';
import { fst } from '../../src/proto-gen/fst.js';
import { waitFor } from '../helpers/probes.js';
import { readCredentials } from '../../src/common/security/credentials-file.js';
import {
  Cleanup, MiB, checksums, clientFor, createChunk, expectErrno, grantLease, pattern, readChunk, startTestServer, tempDir, writeChunk,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const BLOCK = 65_536;

/** Flips one bit of the byte at `at` in a file, as a failing disk might. */
async function flipByte(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = (b[0] ?? 0) ^ 0x10;
    await fh.write(b, 0, 1, at);
  } finally {
    await fh.close();
  }
}

describe('corrupt replicas', () => {
  it('quarantines a copy whose read fails its checksum, and the master forgets the replica', async () => {
    const root = await tempDir(cleanup);
    const master = await startMaster({
      dataDir: join(root, 'master'), listen: '127.0.0.1:0', replication: 1, heartbeatIntervalMs: 200, gcIntervalMs: 60_000, log: silentLogger,
    });
    cleanup.add(() => master.stop());
    const dir = join(root, 'cs0');
    const admin = await readCredentials(master.adminCredentials!);
    const cs = await startTestServer(cleanup, { master: master.address, dataDirs: [dir], credentials: admin });
    // The test reads the chunk as the master would (its own credential).
    const asMaster = await readCredentials(join(root, 'master', 'tls', 'master.credentials'));
    const c = clientFor(cleanup, cs.address, { credentials: asMaster, server: 'chunkserver' });
    const m = new RpcClient(master.address, { timeoutMs: 10_000, retryForMs: 5_000, tls: { credentials: admin, server: 'master' } });
    cleanup.add(() => m.close());
    const replicasOf = (chunkId: number): Promise<unknown[]> => master.db.reader.all('SELECT * FROM replicas WHERE chunk_id = ?', [chunkId]);

    // A file with one chunk the master knows of (waiting for the server to register first).
    const mk = await m.unary(MasterMethods.Mknod, { parent: 1, name: 'f', type: fst.FileType.REGULAR, mode: 0o644, caller: { uid: 0, gid: 0 } });
    const ino = uint64(mk.attr?.ino);
    const alloc = await waitFor('an allocation', () => m.unary(MasterMethods.AllocateChunk, { ino, index: 0 }));
    const chunkId = uint64(alloc.chunk?.chunkId);
    const version = uint64(alloc.chunk?.version);
    // The master creates the chunk on its replica itself (at once or a moment later); wait for
    // that, so that it cannot bring the chunk back after the quarantine. Then act as the master
    // granting the lease, and write as a client would.
    await waitFor('the chunk created on its replica', () => checksums(c, chunkId)).catch(() => createChunk(c, chunkId, version));
    await grantLease(c, chunkId, version);
    const data = pattern(4 * BLOCK, 7);
    await writeChunk(c, { chunkId, version }, [{ offset: 0, data }]);
    await waitFor('the replica listed', async () => ((await replicasOf(chunkId)).length === 1 ? true : undefined));

    await flipByte(chunkPaths(dir, chunkId).data, 2 * BLOCK + 17);
    // Blocks before the damage still read (the copy is only checked where it is read)...
    expect((await readChunk(c, chunkId, version, 0, BLOCK)).equals(data.subarray(0, BLOCK))).toBe(true);
    // ...the damaged one fails with EIO, never returns wrong bytes, and the copy is dropped.
    const err = await expectErrno(readChunk(c, chunkId, version, 2 * BLOCK, 100), 'EIO');
    expect(err.message).toMatch(new RegExp(`chunk ${chunkId} block 2: checksum mismatch`));
    await expectErrno(checksums(c, chunkId), 'ENOENT');
    await expectErrno(readChunk(c, chunkId, version, 0, 10), 'ENOENT');
    const paths = chunkPaths(dir, chunkId);
    expect(existsSync(paths.data + '.corrupt') && existsSync(paths.meta + '.corrupt')).toBe(true);
    expect(existsSync(paths.data) || existsSync(paths.meta)).toBe(false);
    await waitFor('the replica forgotten by the master', async () => ((await replicasOf(chunkId)).length === 0 ? true : undefined));
  });

  it('quarantines the source of a CopyChunk whose bytes fail their checksum', async () => {
    const srcDir = join(await tempDir(cleanup), 'src');
    const [src, dst] = [await startTestServer(cleanup, { dataDirs: [srcDir] }), await startTestServer(cleanup)];
    const s = clientFor(cleanup, src.address);
    const d = clientFor(cleanup, dst.address);
    await createChunk(s, 40, 2);
    await writeChunk(s, { chunkId: 40, version: 2 }, [{ offset: 0, data: pattern(2 * MiB, 40) }]);
    await flipByte(chunkPaths(srcDir, 40).data, MiB + 5);
    await expectErrno(d.unary(ChunkserverMethods.CopyChunk, { chunkId: 40, version: 2, source: src.address }), 'EIO');
    await expectErrno(checksums(d, 40), 'ENOENT');
    await expectErrno(checksums(s, 40), 'ENOENT');
    expect(existsSync(chunkPaths(srcDir, 40).data + '.corrupt')).toBe(true);
  });

  it('quarantines a chunk with an unreadable meta file at start, outside the index and used space', async () => {
    const dir = join(await tempDir(cleanup), 'd0');
    const first = await startTestServer(cleanup, { dataDirs: [dir] });
    const c = clientFor(cleanup, first.address);
    for (const id of [50, 51]) {
      await createChunk(c, id);
      await writeChunk(c, { chunkId: id, version: 1 }, [{ offset: 0, data: pattern(100_000, id) }]);
    }
    await first.stop();
    await writeFile(chunkPaths(dir, 51).meta, 'garbage');
    // Twice: the second scan finds the `.corrupt` files and leaves them alone.
    for (let i = 0; i < 2; i++) {
      const store = await ChunkStore.open({ dataDirs: [dir], reserveBytes: 0, log: silentLogger });
      try {
        expect([...store.index.ids()]).toEqual([50]);
        expect(store.index.usedBytes).toBe(100_000);
      } finally {
        await store.close();
      }
      expect(existsSync(chunkPaths(dir, 51).data + '.corrupt') && existsSync(chunkPaths(dir, 51).meta + '.corrupt')).toBe(true);
      expect(existsSync(chunkPaths(dir, 51).data)).toBe(false);
    }
  });

  it('deletes only the version asked for', async () => {
    const cs = await startTestServer(cleanup);
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 60, 3);
    const err = await expectErrno(c.unary(ChunkserverMethods.DeleteChunk, { chunkId: 60, version: 2 }), 'ESTALE');
    expect(err.message).toMatch(/chunk 60 has version 3, not 2/);
    expect((await checksums(c, 60)).version).toBe(3);
    await c.unary(ChunkserverMethods.DeleteChunk, { chunkId: 60, version: 3 });
    await expectErrno(checksums(c, 60), 'ENOENT');
    // Absent chunks are deleted already, whatever the version.
    await c.unary(ChunkserverMethods.DeleteChunk, { chunkId: 60, version: 3 });
    await c.unary(ChunkserverMethods.DeleteChunk, { chunkId: 61, version: 9 });
  });
});
