/**
 * Malformed gRPC requests — undecodable bytes, and well-formed messages with nonsense in them — are
 * answered with an error status (and an errno trailer where the daemon understood the request),
 * and the daemons keep serving. Also the calls a mount makes only for itself (delegation,
 * ReaddirMany), checked at the wire where their edge cases are easiest to reach.
 */
import { join } from 'node:path';
import { Client, Metadata, credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRNO_TRAILER } from '../../src/common/errors/rpc-status.js';
import { MasterMethods, ChunkserverMethods } from '../../src/common/rpc/services.js';
import { readCredentials } from '../../src/common/security/credentials-file.js';
import { TLS_SERVER_NAME, secureContextOf } from '../../src/common/security/tls-options.js';
import { adminStatus } from '../helpers/cli.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const identity = (b: Buffer): Buffer => b;

/**
 * TLS for a raw client of `address`: the admin credential towards the master, the master's own
 * towards chunkservers (the calls made there are the master's to make). Set once the cluster runs.
 */
let tlsFor: (address: string) => ChannelCredentials = () => credentials.createInsecure();
const TLS_OPTIONS = { 'grpc.ssl_target_name_override': TLS_SERVER_NAME };

function rawCall(address: string, path: string, payload: Buffer): Promise<{ err: ServiceError | null; res?: Buffer }> {
  const client = new Client(address, tlsFor(address), TLS_OPTIONS);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, payload, new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => {
      client.close();
      resolve({ err, res: res as Buffer | undefined });
    });
  });
}

function rawStream(address: string, path: string, payload: Buffer): Promise<ServiceError | null> {
  const client = new Client(address, tlsFor(address), TLS_OPTIONS);
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(path, identity, identity, payload, new Metadata(), { deadline: Date.now() + 10_000 });
    call.on('data', () => undefined);
    call.on('error', (e: ServiceError) => {
      client.close();
      resolve(e);
    });
    call.on('end', () => {
      client.close();
      resolve(null);
    });
  });
}

describe('malformed requests', () => {
  let cluster: ProcessCluster;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 1, replication: 1 });
    const admin = await readCredentials(cluster.credentials);
    const master = await readCredentials(join(cluster.masterDataDir, 'tls', 'master.credentials'));
    const check = { checkServerIdentity: () => undefined };
    tlsFor = (address) => credentials.createFromSecureContext(secureContextOf(address === cluster.masterAddress ? admin : master), check);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('master answers undecodable bytes with an error and keeps serving', async () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x08, 0x96]);
    for (const path of [MasterMethods.Lookup.path, MasterMethods.Mknod.path, MasterMethods.AllocateChunk.path, '/fst.AdminService/GetClusterStatus']) {
      const { err } = await rawCall(cluster.masterAddress, path, garbage);
      expect(err, path).not.toBeNull();
      expect(err!.code, path).not.toBe(status.OK);
    }
    const st = await adminStatus(cluster.masterAddress);
    expect(st.servers).toHaveLength(1);
  });

  it('master answers nonsense values with INVALID_ARGUMENT and the errno trailer', async () => {
    // LookupRequest{parent: 0, name: "x"}: inode 0 does not exist.
    const req = MasterMethods.Lookup.serializeRequest({ parent: 0, name: 'x' });
    const { err } = await rawCall(cluster.masterAddress, MasterMethods.Lookup.path, req);
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.metadata.get(ERRNO_TRAILER)[0]).toBe('EINVAL');
    const huge = MasterMethods.AllocateChunk.serializeRequest({ ino: 1, index: 2 ** 40 });
    const r2 = await rawCall(cluster.masterAddress, MasterMethods.AllocateChunk.path, huge);
    expect(r2.err).not.toBeNull();
    expect(r2.err?.metadata.get(ERRNO_TRAILER)[0]).toMatch(/^E/);
    const unknown = await rawCall(cluster.masterAddress, '/fst.MasterService/NoSuchMethod', Buffer.alloc(0));
    expect(unknown.err?.code).toBe(status.UNIMPLEMENTED);
  });

  it('master refuses malformed delegation calls, and each malformed change of a batch alone', async () => {
    const noSession = await rawCall(cluster.masterAddress, MasterMethods.ApplyChanges.path, MasterMethods.ApplyChanges.serializeRequest({ changes: [{}] }));
    expect(noSession.err?.metadata.get(ERRNO_TRAILER)[0]).toBe('EINVAL');
    const tooMany = await rawCall(cluster.masterAddress, MasterMethods.Delegate.path, MasterMethods.Delegate.serializeRequest({ session: 's', reserveInos: 1_000_000 }));
    expect(tooMany.err?.metadata.get(ERRNO_TRAILER)[0]).toBe('EINVAL');
    // A change without an operation, one with inode 0, one never reserved: each fails on its own;
    // a good one beside them is applied.
    const made = await rawCall(cluster.masterAddress, MasterMethods.Delegate.path, MasterMethods.Delegate.serializeRequest({ session: 's', reserveInos: 1 }));
    const ino = Number(MasterMethods.Delegate.deserializeResponse(made.res!).firstIno);
    const time = { sec: 1_700_000_000, nsec: 0 };
    const batch = MasterMethods.ApplyChanges.serializeRequest({ session: 's', changes: [
      { ino: 5, time },
      { mkdir: { parent: 0, name: 'bad-parent', mode: 0o755 }, ino, time },
      { mkdir: { parent: 1, name: 'never-reserved', mode: 0o755 }, ino: ino + 1_000_000, time },
      { mkdir: { parent: 1, name: 'good', mode: 0o755 }, ino, time },
    ] });
    const r = await rawCall(cluster.masterAddress, MasterMethods.ApplyChanges.path, batch);
    expect(r.err).toBeNull();
    const results = MasterMethods.ApplyChanges.deserializeResponse(r.res!).results.map((x) => x.errno);
    expect(results).toEqual(['EINVAL', 'EINVAL', 'EINVAL', '']);
    const st = await adminStatus(cluster.masterAddress);
    expect(st.servers).toHaveLength(1);
  });

  it('master answers ReaddirMany with what it can list at once, recalls nothing, and refuses a bad inode', async () => {
    const call = async <K extends 'Mkdir' | 'Delegate' | 'ReaddirMany'>(method: K, req: Parameters<(typeof MasterMethods)[K]['serializeRequest']>[0]) => {
      const m = MasterMethods[method];
      const r = await rawCall(cluster.masterAddress, m.path, (m.serializeRequest as (x: typeof req) => Buffer)(req));
      return { err: r.err, res: r.res && (m.deserializeResponse(r.res) as ReturnType<(typeof MasterMethods)[K]['deserializeResponse']>) };
    };
    const mkdir = async (parent: number, name: string): Promise<number> => Number((await call('Mkdir', { parent, name, mode: 0o755 })).res!.attr!.ino);
    const listed = await mkdir(1, 'many-listed');
    for (const n of ['x', 'y', 'z']) await mkdir(listed, n);
    const empty = await mkdir(1, 'many-empty');
    const held = await mkdir(1, 'many-held');
    expect((await call('Delegate', { session: 'holder', acquire: [held] })).res!.granted.map((g) => Number(g.dir))).toEqual([held]);

    // Held by another session, or no such inode: left out, not waited for.
    const all = await call('ReaddirMany', { session: 'reader', inos: [listed, held, 987_654_321, empty] });
    expect(all.err).toBeNull();
    const byIno = new Map(all.res!.listings.map((l) => [Number(l.ino), l.page?.entries ?? []]));
    expect([...byIno.keys()]).toEqual([listed, empty]);
    expect(byIno.get(listed)!.map((e) => e.name)).toEqual(['x', 'y', 'z']);
    expect(byIno.get(listed)![0]!.attr?.mode).toBeTruthy();
    expect(byIno.get(empty)).toEqual([]);
    // The holder still holds its directory: nothing was recalled.
    expect((await call('Delegate', { session: 'reader', acquire: [held] })).res!.granted).toEqual([]);

    // The entry budget ends the listing: a first page cut short says there is more.
    const cut = await call('ReaddirMany', { session: 'reader', inos: [listed, empty], maxEntries: 2 });
    expect(cut.res!.listings).toHaveLength(1);
    expect((cut.res!.listings[0]!.page!.entries ?? []).map((e) => e.name)).toEqual(['x', 'y']);
    expect(cut.res!.listings[0]!.page!.more).toBe(true);

    // Descending: the subdirectories too, depth first in name order, whole pages within the
    // budget, and where it stopped (in the order a walk reaches them).
    const [x, y, z] = byIno.get(listed)!.map((e) => Number(e.ino));
    const x1 = await mkdir(x!, 'x1');
    const x2 = await mkdir(x!, 'x2');
    const tree = await call('ReaddirMany', { session: 'reader', inos: [listed, empty], descend: true });
    expect(tree.res!.listings.map((l) => Number(l.ino))).toEqual([listed, x, x1, x2, y, z, empty]);
    expect((tree.res!.listings[1]!.page!.entries ?? []).map((e) => e.name)).toEqual(['x1', 'x2']);
    expect(tree.res!.unlisted).toEqual([]);
    const part = await call('ReaddirMany', { session: 'reader', inos: [listed, empty], descend: true, maxEntries: 4 });
    expect(part.res!.listings.map((l) => Number(l.ino))).toEqual([listed, x]);
    expect(part.res!.listings.every((l) => l.page!.more !== true)).toBe(true);
    expect(part.res!.unlisted.map(Number)).toEqual([x1, x2, y, z, empty]);

    const bad = await call('ReaddirMany', { session: 'reader', inos: [listed, 0] });
    expect(bad.err?.metadata.get(ERRNO_TRAILER)[0]).toBe('EINVAL');
  });

  it('chunkserver answers garbage and bad ranges with errors and keeps serving', async () => {
    const cs = cluster.chunkservers[0]!.process.address;
    const garbageErr = await rawStream(cs, ChunkserverMethods.ReadChunk.path, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(garbageErr).not.toBeNull();
    const badRange = ChunkserverMethods.ReadChunk.serializeRequest({ chunkId: 1, version: 1, offset: 2 ** 40, length: 10 });
    const rangeErr = await rawStream(cs, ChunkserverMethods.ReadChunk.path, badRange);
    expect(rangeErr).not.toBeNull();
    expect(rangeErr!.code).not.toBe(status.OK);
    const missing = ChunkserverMethods.ReadChunk.serializeRequest({ chunkId: 987654, version: 1, offset: 0, length: 10 });
    const missingErr = await rawStream(cs, ChunkserverMethods.ReadChunk.path, missing);
    expect(missingErr?.metadata.get(ERRNO_TRAILER)[0]).toBe('ENOENT');
    // Still serving: the master still sees it alive and it answers a well-formed request.
    const ok = await rawCall(cs, ChunkserverMethods.DeleteChunk.path, ChunkserverMethods.DeleteChunk.serializeRequest({ chunkId: 987654 }));
    expect(ok.err).toBeNull();
    expect(cluster.chunkservers[0]!.process.running).toBe(true);
  });
});
