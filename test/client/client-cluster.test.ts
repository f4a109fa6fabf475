/**
 * The client against the real daemons: one master and three chunkservers in this process, on
 * random ports in temp dirs, replication 2. Data round trips across chunk boundaries, sparse
 * files, overwrites, truncate, and the fst/fstadmin CLIs as spawned processes (these need `dist/`,
 * which `npm test` builds first).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChunkserver, type Chunkserver } from '../../src/chunkserver/chunkserver.js';
import { FstClient } from '../../src/client/fst-client.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { silentLogger } from '../../src/common/log/logger.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { AdminMethods } from '../../src/common/rpc/services.js';
import { startMaster, type Master } from '../../src/master/master.js';
import { runCli } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function waitForAlive(master: string, n: number): Promise<void> {
  const rpc = new RpcClient(master);
  try {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const s = await rpc.unary(AdminMethods.GetClusterStatus, {});
      if (s.servers.filter((x) => x.state === 'alive').length >= n) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`fewer than ${n} chunkservers alive after 30 s`);
  } finally {
    rpc.close();
  }
}

describe('FstClient and CLIs on a real cluster', () => {
  let root: string;
  let master: Master;
  const chunkservers: Chunkserver[] = [];
  let fst: FstClient;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fst-client-cluster-'));
    master = await startMaster({ dataDir: join(root, 'master'), listen: '127.0.0.1:0', replication: 2, heartbeatIntervalMs: 300, log: silentLogger });
    for (let i = 0; i < 3; i++) {
      chunkservers.push(await startChunkserver({ master: master.address, dataDirs: [join(root, `cs${i}`)], listen: '127.0.0.1:0', logger: silentLogger }));
    }
    await waitForAlive(master.address, 3);
    fst = new FstClient({ master: master.address });
    await fst.connect();
  });

  afterAll(async () => {
    await fst?.close();
    for (const c of chunkservers) await c.stop();
    await master?.stop();
    await rm(root, { recursive: true, force: true });
  });

  let big: Buffer;

  it('round-trips a ~100 MiB random file across two chunks', async () => {
    big = randomBytes(100 * MiB + 4321);
    const h = await fst.open('/big', { create: true, write: true });
    for (let o = 0; o < big.length; o += 8 * MiB) await h.write(o, big.subarray(o, o + 8 * MiB));
    await h.close();
    expect((await fst.stat('/big')).size).toBe(big.length);
    expect(sha(await fst.readFile('/big'))).toBe(sha(big));
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
    expect(sha(await fst.readFile('/big'))).toBe(sha(big));
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

  it('runs fst put/get/ls/cat/rm/mkdir and fstadmin status as processes', async () => {
    const m = ['--master', master.address];
    const local = join(root, 'local.bin');
    const data = randomBytes(9 * MiB + 5);
    await writeFile(local, data, { mode: 0o640 });
    expect((await runCli('fst', [...m, 'mkdir', '-p', '/cli/sub'])).code).toBe(0);
    expect((await runCli('fst', [...m, 'put', local, '/cli/f.bin'])).code).toBe(0);
    expect((await runCli('fst', [...m, 'get', '/cli/f.bin', join(root, 'back.bin')])).code).toBe(0);
    expect(sha(await readFile(join(root, 'back.bin')))).toBe(sha(data));
    expect((await runCli('fst', [...m, 'ls', '/cli'])).stdout).toBe('f.bin\nsub\n');
    expect((await runCli('fst', [...m, 'ls', '-l', '/cli'])).stdout).toMatch(/^-rw-r-----\s+1\s+\d+\s+\d+\s+9437189\s/);
    await writeFile(join(root, 'small'), 'hello fst\n');
    await runCli('fst', [...m, 'put', join(root, 'small'), '/cli/sub/small']);
    expect((await runCli('fst', ['cat', '/cli/sub/small'], { FST_MASTER: master.address })).stdout).toBe('hello fst\n');

    expect(await runCli('fst', [...m, 'rm', '/cli'])).toMatchObject({ code: 1, stderr: 'fst: /cli: Is a directory (EISDIR)\n' });
    expect(await runCli('fst', [...m, 'cat', '/missing'])).toMatchObject({ code: 1, stderr: 'fst: /missing: No such file or directory (ENOENT)\n' });
    expect(await runCli('fst', [...m, 'ls', '--bogus'])).toMatchObject({ code: 2 });
    expect(await runCli('fst', [...m, 'get', '/cli/f.bin'])).toMatchObject({ code: 2 });
    expect(await runCli('fst', ['ls', '/'], { FST_MASTER: '' })).toMatchObject({ code: 2 });
    const dead = await runCli('fst', ['--master', '127.0.0.1:1', 'ls', '/']);
    expect(dead).toMatchObject({ code: 1, stderr: 'fst: master 127.0.0.1:1: Connection timed out (ETIMEDOUT)\n' });
    expect((await runCli('fst', [...m, 'rm', '-r', '/cli'])).code).toBe(0);
    expect((await runCli('fst', [...m, 'ls', '/cli'])).code).toBe(1);

    const status = await runCli('fstadmin', [...m, 'status', '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { servers: Array<{ state: string }>; files: number; health: { missing: number } };
    expect(s.servers.filter((x) => x.state === 'alive')).toHaveLength(3);
    expect(s.health.missing).toBe(0);
    const human = await runCli('fstadmin', [...m, 'status']);
    expect(human.stdout).toContain('3 alive, 0 dead');
  });
});
