/**
 * File contents through the client library against real processes: sparse files, overwrites in the
 * middle of a chunk and across a chunk boundary, truncation both ways, and concurrent writers — each
 * compared against an in-memory model of what the file must hold.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { sha256 } from '../helpers/files.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;

describe('file contents', () => {
  let cluster: ProcessCluster;
  let client: FstClient;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  async function readAll(path: string): Promise<Buffer> {
    const fh = await client.open(path, { read: true });
    try {
      const st = await fh.stat();
      return await fh.read(0, st.size);
    } finally {
      await fh.close();
    }
  }

  it('reads holes of a sparse file as zeros and keeps the size', async () => {
    const fh = await client.open('/sparse', { create: true, write: true });
    const tail = randomBytes(MiB);
    const at = CHUNK_SIZE + 10 * MiB + 123; // in the second chunk; the first chunk is a hole
    await fh.write(at, tail);
    await fh.close();
    const st = await client.stat('/sparse');
    expect(st.size).toBe(at + MiB);
    const data = await readAll('/sparse');
    expect(data.length).toBe(at + MiB);
    expect(data.subarray(0, at).every((b) => b === 0)).toBe(true);
    expect(data.subarray(at).equals(tail)).toBe(true);
    // A hole in the middle of a written chunk reads as zeros too.
    const fh2 = await client.open('/sparse', { write: true });
    await fh2.write(5, Buffer.from('head'));
    await fh2.close();
    const again = await readAll('/sparse');
    expect(again.subarray(5, 9).toString()).toBe('head');
    expect(again.subarray(9, at).every((b) => b === 0)).toBe(true);
  });

  it('overwrites in the middle of a chunk and across a chunk boundary', async () => {
    const size = CHUNK_SIZE + 20 * MiB;
    const model = randomBytes(size);
    const fh = await client.open('/over', { create: true, write: true });
    for (let off = 0; off < size; off += 8 * MiB) await fh.write(off, model.subarray(off, Math.min(size, off + 8 * MiB)));
    await fh.close();

    const edits: [number, number][] = [
      [30 * MiB + 7, 3 * MiB + 5],             // middle of chunk 0, unaligned
      [CHUNK_SIZE - 2 * MiB - 3, 4 * MiB + 11], // across the chunk 0/1 boundary
      [100, 1],                               // a single byte
    ];
    const fh2 = await client.open('/over', { write: true });
    for (const [off, len] of edits) {
      const piece = randomBytes(len);
      piece.copy(model, off);
      await fh2.write(off, piece);
    }
    await fh2.fsync();
    await fh2.close();
    const back = await readAll('/over');
    expect(back.length).toBe(size);
    expect(sha256(back)).toBe(sha256(model));
    // Ranged reads across the boundary through a fresh handle.
    const fh3 = await client.open('/over', { read: true });
    const span = await fh3.read(CHUNK_SIZE - 1000, 3000);
    await fh3.close();
    expect(span.equals(model.subarray(CHUNK_SIZE - 1000, CHUNK_SIZE + 2000))).toBe(true);
  });

  it('truncates down and up: the cut bytes come back as zeros', async () => {
    const data = randomBytes(CHUNK_SIZE + 3 * MiB);
    await client.writeFile('/trunc', data);
    await client.truncate('/trunc', 10 * MiB + 1);
    expect((await client.stat('/trunc')).size).toBe(10 * MiB + 1);
    expect((await readAll('/trunc')).equals(data.subarray(0, 10 * MiB + 1))).toBe(true);
    await client.truncate('/trunc', CHUNK_SIZE + MiB);
    const grown = await readAll('/trunc');
    expect(grown.length).toBe(CHUNK_SIZE + MiB);
    expect(grown.subarray(0, 10 * MiB + 1).equals(data.subarray(0, 10 * MiB + 1))).toBe(true);
    expect(grown.subarray(10 * MiB + 1).every((b) => b === 0)).toBe(true);
    await client.truncate('/trunc', 0);
    expect((await readAll('/trunc')).length).toBe(0);
  });

  it('lets several writers write different files at once', async () => {
    await client.mkdir('/par');
    const files = Array.from({ length: 6 }, (_, i) => ({ path: `/par/f${i}`, data: randomBytes(3 * MiB + i * 4099) }));
    await Promise.all(files.map(async (f) => {
      const fh = await client.open(f.path, { create: true, exclusive: true, write: true });
      for (let off = 0; off < f.data.length; off += 256 * 1024) await fh.write(off, f.data.subarray(off, off + 256 * 1024));
      await fh.close();
    }));
    for (const f of files) expect(sha256(await readAll(f.path)), f.path).toBe(sha256(f.data));
    const names = (await client.readdir('/par')).map((e) => e.name).sort();
    expect(names).toEqual(files.map((f) => f.path.slice(5)).sort());
  });
});
