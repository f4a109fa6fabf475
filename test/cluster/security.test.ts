/**
 * The security bar on real processes: TLS on every port with the cluster's CA, credentials from
 * the master (admin, read-only, root squash, map-root, revocation), chunk access tokens checked by
 * chunkservers, and chunkserver registration and heartbeats bound to who registered.
 */
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Client, Metadata, credentials as grpcCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods, MasterMethods, RegistryMethods } from '../../src/common/rpc/services.js';
import { signChunkToken } from '../../src/common/security/chunk-token.js';
import { readCredentials, type Credentials } from '../../src/common/security/credentials-file.js';
import type { fst } from '../../src/proto-gen/fst.js';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/daemon-process.js';
import { FuseMount, sh } from '../helpers/fuse-mount.js';
import { openDb } from '../helpers/master-db.js';
import { codeOf, waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;
const NO_CREDENTIALS = { FST_CREDENTIALS: '' };

/** Runs a command and resolves with its exit status and stderr, failing or not. */
function attempt(cmd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', cmd], { timeout: 60_000 }, (err, _out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

/**
 * Reads through both read RPCs (a ReadChunk stream drained, and one ReadRange call); resolves with
 * the errno they failed with, or 'no error', or both outcomes when they differ.
 */
async function readOutcome(rpc: RpcClient, req: fst.IReadChunkRequest): Promise<string> {
  const stream = await codeOf((async () => {
    for await (const _ of rpc.serverStream(ChunkserverMethods.ReadChunk, req, { timeoutMs: 10_000 })) { /* drain */ }
  })());
  const range = await codeOf(rpc.unary(ChunkserverMethods.ReadRange, req, { timeoutMs: 10_000, retryForMs: 0 }));
  return stream === range ? stream : `ReadChunk: ${stream}, ReadRange: ${range}`;
}

/** Sends one WriteChunk stream with `header` and 4 KiB of data; resolves with its errno or 'no error'. */
async function writeOutcome(rpc: RpcClient, header: fst.IWriteChunkHeader): Promise<string> {
  const { call, response } = rpc.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 10_000 });
  call.on('error', () => undefined);
  call.write({ header, offset: 0, data: Buffer.alloc(4096, 1) });
  call.end();
  return codeOf(response);
}

describe('security: TLS, credentials and chunk tokens', () => {
  let cluster: ProcessCluster;
  let admin: Credentials;
  let dir: string;
  const mounts: FuseMount[] = [];

  /** `fstadmin credentials create NAME ...` into the cluster's temp dir; the file's path. */
  async function credential(name: string, ...flags: string[]): Promise<string> {
    const out = join(dir, `${name}.credentials`);
    const r = await runCli('fstadmin', ['--master', cluster.masterAddress, 'credentials', 'create', name, ...flags, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    return out;
  }

  async function mountWith(file: string): Promise<FuseMount> {
    const m = await FuseMount.start(cluster.masterAddress, ['--credentials', file]);
    mounts.push(m);
    return m;
  }

  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2 });
    admin = await readCredentials(cluster.credentials);
    dir = cluster.root;
  });
  afterAll(async () => {
    for (const m of mounts) await m.stop();
    await cluster?.stop();
  });

  it('writes an admin credential (mode 0600) and refuses fst, fstadmin and fst-mount without one', async () => {
    expect((await stat(cluster.credentials)).mode & 0o777).toBe(0o600);
    const master = cluster.masterAddress;
    for (const [bin, args] of [['fst', ['ls', '/']], ['fstadmin', ['status']]] as const) {
      const refused = await runCli(bin, ['--master', master, ...args], NO_CREDENTIALS);
      expect(refused.code, bin).toBe(1);
      expect(refused.stderr, bin).toMatch(/--credentials/);
      const allowed = await runCli(bin, ['--master', master, ...args]);
      expect(allowed.stderr, bin).toBe('');
      expect(allowed.code, bin).toBe(0);
    }
    const mountpoint = join(dir, 'no-credential-mnt');
    const r = await attempt(`mkdir -p ${mountpoint} && FST_CREDENTIALS= ${process.execPath} ${join(REPO_ROOT, 'bin/fst-mount.js')} --master ${master} ${mountpoint} --foreground`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--credentials/);
  });

  it('refuses plaintext connections on every gRPC port, and a client that does not trust the CA refuses the server', async () => {
    const ports = [cluster.masterAddress, ...cluster.chunkservers.map((c) => c.process.address)];
    for (const address of ports) {
      // FST's own framed transport in plaintext: refused with what to do.
      const plain = new RpcClient(address, { retryForMs: 0, timeoutMs: 10_000 });
      const e = await plain.unary(MasterMethods.Statfs, {}).then(() => undefined, (err: unknown) => err as { code: string; message: string });
      plain.close();
      expect(e?.code, address).toBe('EACCES');
      expect(e?.message, address).toMatch(/TLS/);
      // gRPC (HTTP/2) in plaintext: the connection is dropped.
      const grpc = new Client(address, grpcCredentials.createInsecure());
      const code = await new Promise<number>((resolve) => {
        grpc.makeUnaryRequest('/fst.MasterService/Statfs', (x: Buffer) => x, (b: Buffer) => b, Buffer.alloc(0), new Metadata(),
          { deadline: Date.now() + 10_000 }, (err) => resolve(err?.code ?? 0));
      });
      grpc.close();
      expect(code, address).not.toBe(0);
    }
    // Another cluster's CA: our certificate is fine, but the master's is not one we trust.
    const other = await startProcessCluster({ chunkservers: 0 });
    try {
      const foreign = await readCredentials(other.credentials);
      const distrustful = new RpcClient(cluster.masterAddress, { retryForMs: 0, tls: { credentials: { ...admin, ca: foreign.ca }, server: 'master' } });
      const err = await distrustful.unary(MasterMethods.Statfs, {}).then(() => undefined, (x: unknown) => x as { code: string; message: string });
      distrustful.close();
      expect(err?.code).toBe('EACCES');
      expect(err?.message).toMatch(/TLS with master .* failed/);
      // And a credential of the other cluster is refused by this one.
      const stranger = new RpcClient(cluster.masterAddress, { retryForMs: 0, tls: { credentials: { ...foreign, ca: admin.ca }, server: 'master' } });
      expect(await codeOf(stranger.unary(MasterMethods.Statfs, {}))).toBe('EACCES');
      stranger.close();
    } finally {
      await other.stop();
    }
  });

  it('lets a read-only credential read, and refuses every change at the mount and through fst', async () => {
    const fs = new FstClient({ master: cluster.masterAddress, credentials: admin });
    await fs.connect();
    await fs.mkdir('/ro');
    await fs.writeFile('/ro/f', Buffer.from('readable\n'));
    await fs.close();
    const ro = await credential('reader', '--read-only');
    const m = await mountWith(ro);
    expect(await readFile(m.path('ro/f'), 'utf8')).toBe('readable\n');
    for (const cmd of [
      `touch ${m.path('ro/new')}`, `mkdir ${m.path('ro/d')}`, `rm ${m.path('ro/f')}`, `mv ${m.path('ro/f')} ${m.path('ro/g')}`,
      `chmod 600 ${m.path('ro/f')}`, `echo more >> ${m.path('ro/f')}`, `ln ${m.path('ro/f')} ${m.path('ro/h')}`, `ln -s f ${m.path('ro/s')}`,
      `truncate -s 0 ${m.path('ro/f')}`, `python3 -c 'import os; os.setxattr("${m.path('ro/f')}", "user.x", b"1")'`,
    ]) {
      const r = await attempt(cmd);
      expect(r.code, cmd).not.toBe(0);
      expect(r.stderr, cmd).toMatch(/Read-only file system|Permission denied/);
    }
    expect(await readFile(m.path('ro/f'), 'utf8')).toBe('readable\n');
    const local = join(dir, 'upload.txt');
    await writeFile(local, 'x');
    for (const args of [['put', local, '/ro/up'], ['mkdir', '/ro/d2'], ['rm', '/ro/f']]) {
      const r = await runCli('fst', ['--master', cluster.masterAddress, '--credentials', ro, ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(/EROFS/);
    }
    const get = await runCli('fst', ['--master', cluster.masterAddress, '--credentials', ro, 'cat', '/ro/f']);
    expect(get.stdout).toBe('readable\n');
  });

  it('squashes root to nobody unless the credential maps it back to root', async () => {
    const fs = new FstClient({ master: cluster.masterAddress, credentials: admin });
    await fs.connect();
    await fs.mkdir('/shared', 0o777);
    await fs.close();
    const squashed = await mountWith(await credential('squashed'));
    await sh(`touch ${squashed.path('shared/by-squashed-root')}`);
    const st = await stat(squashed.path('shared/by-squashed-root'));
    expect([st.uid, st.gid]).toEqual([65534, 65534]);
    // Root squashed may not do what only root may.
    expect((await attempt(`chown 0:0 ${squashed.path('shared/by-squashed-root')}`)).code).not.toBe(0);
    const rooted = await mountWith(await credential('rooted', '--map-root', '0:0'));
    await sh(`touch ${rooted.path('shared/by-root')}`);
    const st2 = await stat(rooted.path('shared/by-root'));
    expect([st2.uid, st2.gid]).toEqual([0, 0]);
    const all = await mountWith(await credential('everyone', '--map-all', '1234:5678'));
    await sh(`mkdir ${all.path('shared/by-all')}`);
    const st3 = await stat(all.path('shared/by-all'));
    expect([st3.uid, st3.gid]).toEqual([1234, 5678]);
  });

  it('confines a credential to its subtree: its root there, and no way out through .., symlinks or hard links', async () => {
    const fs = new FstClient({ master: cluster.masterAddress, credentials: admin });
    await fs.connect();
    await fs.mkdir('/projects');
    await fs.mkdir('/projects/a', 0o777);
    await fs.mkdir('/projects/b');
    await fs.writeFile('/projects/a/mine', Buffer.from('inside\n'));
    await fs.writeFile('/projects/b/secret', Buffer.from('outside\n'));
    await fs.symlink('/projects/b/secret', '/projects/a/abs-link');
    await fs.symlink('../b/secret', '/projects/a/rel-link');
    const secret = (await fs.stat('/projects/b/secret')).ino;
    const rootA = (await fs.stat('/projects/a')).ino;
    await fs.close();
    const file = await credential('project-a', '--path', '/projects/a', '--map-root', '0:0');

    // fst: "/" is /projects/a.
    const fst = (...args: string[]): ReturnType<typeof runCli> => runCli('fst', ['--master', cluster.masterAddress, '--credentials', file, ...args]);
    expect((await fst('ls', '/')).stdout.split('\n').filter(Boolean).sort()).toEqual(['abs-link', 'mine', 'rel-link']);
    expect((await fst('cat', '/mine')).stdout).toBe('inside\n');
    for (const path of ['/../b/secret', '/../../projects/b/secret', '/abs-link', '/rel-link']) {
      const r = await fst('cat', path);
      expect(r.code, path).toBe(1);
      expect(r.stdout, path).toBe('');
    }
    // The mount: its root is /projects/a.
    const m = await mountWith(file);
    expect((await sh(`ls ${m.dir}`)).split('\n').filter(Boolean).sort()).toEqual(['abs-link', 'mine', 'rel-link']);
    expect(await readFile(m.path('mine'), 'utf8')).toBe('inside\n');
    expect((await attempt(`cat ${m.path('rel-link')}`)).code).not.toBe(0);
    await sh(`echo new > ${m.path('made-here')} && mkdir ${m.path('dir-here')} && mv ${m.path('made-here')} ${m.path('dir-here/moved')}`);
    expect(await readFile(m.path('dir-here/moved'), 'utf8')).toBe('new\n');

    // Raw calls with inode numbers learnt elsewhere: refused; ".." of its root is its root.
    const confined = new RpcClient(cluster.masterAddress, { retryForMs: 0, tls: { credentials: await readCredentials(file), server: 'master' } });
    try {
      const id = await confined.unary(MasterMethods.GetIdentity, {});
      expect(Number(id.rootIno)).toBe(rootA);
      expect(id.path).toBe('/projects/a');
      expect(await codeOf(confined.unary(MasterMethods.GetAttr, { ino: secret }))).toBe('EACCES');
      expect(await codeOf(confined.unary(MasterMethods.GetAttr, { ino: 1 }))).toBe('EACCES');
      expect(await codeOf(confined.unary(MasterMethods.Link, { ino: secret, newParent: rootA, newName: 'stolen' }))).toBe('EACCES');
      expect(await codeOf(confined.unary(MasterMethods.LocateChunks, { ino: secret, offset: 0, length: 10 }))).toBe('EACCES');
      expect(await codeOf(confined.unary(MasterMethods.Rename, { parent: rootA, name: 'mine', newParent: 1, newName: 'escaped' }))).toBe('EACCES');
      const up = await confined.unary(MasterMethods.Lookup, { parent: rootA, name: '..' });
      expect(Number(up.attr?.ino)).toBe(rootA);
    } finally {
      confined.close();
    }
  });

  it('stops a revoked credential on an already open mount within 10 s', async () => {
    const file = await credential('temporary', '--map-root', '0:0');
    const m = await mountWith(file);
    await sh(`touch ${m.path('shared/before-revoke')}`);
    const r = await runCli('fstadmin', ['--master', cluster.masterAddress, 'credentials', 'revoke', 'temporary']);
    expect(r.code).toBe(0);
    const revokedAt = Date.now();
    let n = 0;
    await waitFor('the revoked mount to be refused', async () => {
      const probe = await attempt(`touch ${m.path(`shared/after-revoke-${n++}`)}`);
      if (probe.code === 0) throw new Error('still allowed');
      return probe.stderr;
    }, 10_000, 200);
    expect(Date.now() - revokedAt).toBeLessThan(10_000);
    const list = await runCli('fstadmin', ['--master', cluster.masterAddress, 'credentials', 'list', '--json']);
    const listed = (JSON.parse(list.stdout) as { credentials: { name: string; revokedMs: number }[] }).credentials;
    expect(listed.find((c) => c.name === 'temporary')?.revokedMs).toBeGreaterThan(0);
  });

  it('refuses chunk reads and writes without a valid token, and master-only calls from clients', async () => {
    const fs = new FstClient({ master: cluster.masterAddress, credentials: admin });
    await fs.connect();
    await fs.writeFile('/a.bin', Buffer.alloc(2 * MiB, 7));
    await fs.writeFile('/b.bin', Buffer.alloc(2 * MiB, 8));
    const [a] = (await fs.meta.locateChunks((await fs.stat('/a.bin')).ino, 0, 1)).chunks;
    const [b] = (await fs.meta.locateChunks((await fs.stat('/b.bin')).ino, 0, 1)).chunks;
    await fs.close();
    expect(a?.token?.length).toBeGreaterThan(0);
    const client = await readCredentials(await credential('raw-client'));
    const holder = a!.replicas[0]!.address;
    const rpc = new RpcClient(holder, { retryForMs: 0, timeoutMs: 10_000, tls: { credentials: client, server: 'chunkserver' } });
    try {
      const readA = { chunkId: a!.chunkId, version: a!.version, offset: 0, length: 4096 };
      // The master's token opens the chunk it names...
      expect(await readOutcome(rpc, { ...readA, token: a!.token })).toBe('no error');
      // ReadRange answers at most 1 MiB at once (a stream reads more).
      expect(await codeOf(rpc.unary(ChunkserverMethods.ReadRange, { ...readA, length: 2 * MiB, token: a!.token }, { retryForMs: 0 }))).toBe('EINVAL');
      // ...and nothing else: none, another chunk's, a forged or an expired one.
      expect(await readOutcome(rpc, readA)).toBe('EACCES');
      if (b!.replicas.some((r) => r.address === holder)) {
        expect(await readOutcome(rpc, { chunkId: b!.chunkId, version: b!.version, offset: 0, length: 4096, token: a!.token })).toBe('EACCES');
      }
      const forged = Buffer.from(a!.token!);
      forged.writeUInt8(forged.readUInt8(forged.length - 1) ^ 1, forged.length - 1);
      expect(await readOutcome(rpc, { ...readA, token: forged })).toBe('EACCES');
      const key = await readFile(join(cluster.masterDataDir, 'tls', 'token.key'));
      const expired = signChunkToken(key, { chunkId: a!.chunkId, version: a!.version, write: false, expiresMs: Date.now() - 3_600_000 });
      expect(await readOutcome(rpc, { ...readA, token: expired })).toBe('ESTALE');
      // A read token does not open writes; no token opens neither client nor forwarded writes.
      const header = { chunkId: a!.chunkId, version: a!.version, chain: [] };
      expect(await writeOutcome(rpc, { ...header, token: a!.token })).toBe('EACCES');
      expect(await writeOutcome(rpc, header)).toBe('EACCES');
      expect(await writeOutcome(rpc, { ...header, forwarded: true })).toBe('EACCES');
      // What only the master may do.
      expect(await codeOf(rpc.unary(ChunkserverMethods.DeleteChunk, { chunkId: a!.chunkId, version: a!.version }))).toBe('EACCES');
      expect(await codeOf(rpc.unary(ChunkserverMethods.SetChunkVersion, { chunkId: a!.chunkId, version: a!.version, newVersion: a!.version + 5 }))).toBe('EACCES');
      expect(await codeOf(rpc.unary(ChunkserverMethods.CopyChunk, { chunkId: a!.chunkId, version: a!.version, source: holder }))).toBe('EACCES');
      expect(await readOutcome(rpc, { ...readA, token: a!.token })).toBe('no error');
    } finally {
      rpc.close();
    }
    // The file is intact after all that.
    const check = new FstClient({ master: cluster.masterAddress, credentials: admin });
    await check.connect();
    expect((await check.readFile('/a.bin')).equals(Buffer.alloc(2 * MiB, 7))).toBe(true);
    await check.close();
  });

  it('registers chunkservers only with a chunkserver credential, binds heartbeats to their registration, and sets unissued chunk ids aside', async () => {
    const client = await readCredentials(await credential('not-a-chunkserver'));
    const asClient = new RpcClient(cluster.masterAddress, { retryForMs: 0, tls: { credentials: client, server: 'master' } });
    const reg = { uuid: 'fake-chunkserver', address: '127.0.0.1:9', capacityBytes: 1, freeBytes: 0 };
    expect(await codeOf(asClient.unary(RegistryMethods.RegisterChunkserver, reg))).toBe('EACCES');
    asClient.close();

    const cs = await readCredentials(await credential('rogue', '--chunkserver'));
    const rogue = new RpcClient(cluster.masterAddress, { retryForMs: 0, tls: { credentials: cs, server: 'master' } });
    try {
      const mine = await rogue.unary(RegistryMethods.RegisterChunkserver, reg);
      const db = await openDb(cluster);
      const nextBefore = (await db.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_chunk_id'"))!.value;
      const victim = (await db.get<{ id: number }>('SELECT MIN(id) AS id FROM chunkservers WHERE id != ?', [Number(mine.serverId)]))!.id;
      // A beat for another server's id, with this registration: refused, the victim's replicas kept.
      const replicasBefore = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM replicas WHERE server_id = ?', [victim]))!.n;
      expect(replicasBefore).toBeGreaterThan(0);
      const hijack = rogue.bidi(RegistryMethods.Heartbeat, { timeoutMs: 10_000 });
      const hijacked = new Promise<string>((resolve) => {
        hijack.on('error', (e: unknown) => resolve(String((rogue.streamError(e, RegistryMethods.Heartbeat) as { code?: string }).code)));
        hijack.on('end', () => resolve('ended'));
        hijack.on('data', () => undefined);
      });
      hijack.write({ serverId: victim, registration: mine.registration, fullReport: true, reportDone: true, chunks: [] });
      expect(await hijacked).toBe('EACCES');
      hijack.cancel();
      expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM replicas WHERE server_id = ?', [victim]))!.n).toBe(replicasBefore);
      // Its own id, reporting a chunk id far beyond what was issued (set aside, the counter
      // unmoved) and a real chunk at a version far beyond its own (not adopted: the real replicas
      // stay current).
      const real = (await db.get<{ chunk_id: number; version: number }>('SELECT chunk_id, version FROM chunks ORDER BY chunk_id LIMIT 1'))!;
      const own = rogue.bidi(RegistryMethods.Heartbeat, { timeoutMs: 60_000 });
      own.on('error', () => undefined);
      own.on('data', () => undefined);
      const far = 2 ** 40;
      own.write({
        serverId: mine.serverId, registration: mine.registration, fullReport: true, reportDone: true,
        chunks: [{ chunkId: real.chunk_id, version: real.version + 1000, length: 0 }, { chunkId: far, version: 1, length: 0 }],
      });
      await waitFor('the unissued id recorded', async () => ((await db.get('SELECT 1 AS x FROM foreign_chunks WHERE chunk_id = ?', [far])) ? true : undefined));
      expect((await db.get<{ value: number }>("SELECT value FROM counters WHERE name = 'next_chunk_id'"))!.value).toBe(nextBefore);
      expect((await db.get<{ version: number }>('SELECT version FROM chunks WHERE chunk_id = ?', [real.chunk_id]))!.version).toBe(real.version);
      expect(await db.get('SELECT 1 AS x FROM replicas WHERE chunk_id = ? AND server_id = ?', [real.chunk_id, Number(mine.serverId)])).toBeUndefined();
      own.cancel();
      await db.close();
    } finally {
      rogue.close();
    }
    // The rogue server stops beating; the master must not place chunks on it meanwhile.
    await runCli('fstadmin', ['--master', cluster.masterAddress, 'credentials', 'revoke', 'rogue']);
  });
});
