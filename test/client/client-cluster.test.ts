/**
 * The client against the real daemons with the real write-back defaults: one master and three
 * chunkservers in this process (real-cluster.ts), on random ports in temp dirs, replication 2.
 * Data round trips across the 64 MiB chunk boundary, sparse files, overwrites, truncate. The CLIs
 * are tested in cli.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FstClient } from '../../src/client/fst-client.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { startRealCluster, type RealCluster } from './real-cluster.js';
import { sha256 } from '../helpers/files.js';

const MiB = 1024 * 1024;

describe('FstClient on a real cluster, default write-back', () => {
  let cluster: RealCluster;
  let fst: FstClient;

  beforeAll(async () => {
    cluster = await startRealCluster({ chunkservers: 3, replication: 2 });
    fst = await cluster.client();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  let big: Buffer;

  it('round-trips a ~100 MiB random file across two chunks', async () => {
    big = randomBytes(100 * MiB + 4321);
    const h = await fst.open('/big', { create: true, write: true });
    for (let o = 0; o < big.length; o += 8 * MiB) await h.write(o, big.subarray(o, o + 8 * MiB));
    await h.close();
    expect((await fst.stat('/big')).size).toBe(big.length);
    expect(sha256(await fst.readFile('/big'))).toBe(sha256(big));
    const h2 = await fst.open('/big');
    expect((await h2.read(CHUNK_SIZE - 10, 20)).equals(big.subarray(CHUNK_SIZE - 10, CHUNK_SIZE + 10))).toBe(true);
    await h2.close();
  });

  it('overwrites mid-chunk and across the chunk boundary', async () => {
    const h = await fst.open('/big', { write: true });
    const a = randomBytes(3 * MiB + 1);
    const b = randomBytes(2 * MiB);
    await h.write(10 * MiB + 7, a);
    await h.write(CHUNK_SIZE - MiB, b);
    await h.close();
    a.copy(big, 10 * MiB + 7);
    b.copy(big, CHUNK_SIZE - MiB);
    expect(sha256(await fst.readFile('/big'))).toBe(sha256(big));
  });

  it('keeps holes as zeros in a sparse file', async () => {
    const h = await fst.open('/sparse', { create: true, write: true });
    await h.write(0, Buffer.from('head'));
    await h.write(2 * CHUNK_SIZE + 5, Buffer.from('tail'));
    await h.close();
    const d = await fst.readFile('/sparse');
    expect(d.length).toBe(2 * CHUNK_SIZE + 9);
    expect(d.subarray(0, 4).toString()).toBe('head');
    expect(d.subarray(4, 2 * CHUNK_SIZE + 5).every((x) => x === 0)).toBe(true);
    expect(d.subarray(2 * CHUNK_SIZE + 5).toString()).toBe('tail');
  });

  it('truncates down, then reads zeros where the file is extended again', async () => {
    await fst.writeFile('/tr', randomBytes(5 * MiB));
    const h = await fst.open('/tr', { read: true, write: true });
    await h.truncate(MiB + 3);
    await h.truncate(4 * MiB);
    const d = await h.read(MiB, 3 * MiB);
    expect(d.length).toBe(3 * MiB);
    expect(d.subarray(3).every((x) => x === 0)).toBe(true);
    await h.write(2 * MiB, Buffer.from('after'));
    await h.close();
    const all = await fst.readFile('/tr');
    expect(all.length).toBe(4 * MiB);
    expect(all.subarray(2 * MiB, 2 * MiB + 5).toString()).toBe('after');
    await fst.truncate('/tr', 10);
    expect((await fst.readFile('/tr')).length).toBe(10);
  });
});
