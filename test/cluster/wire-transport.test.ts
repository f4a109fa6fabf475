/**
 * The unary transport against a real master process: calls and errnos through it, several calls in
 * flight on one connection, deadlines, cancellation, reconnection after the daemon restarts, and
 * malformed frames from a hostile client (the connection is dropped, the daemon keeps serving).
 */
import { connect } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaClient } from '../../src/client/meta-client.js';
import { errnoOfServiceError, isServiceError } from '../../src/common/errors/rpc-status.js';
import { WireChannel } from '../../src/common/rpc/wire-client.js';
import { FrameKind, FrameReader, PREFACE, frameHeader, parseFailure, requestPrefix } from '../../src/common/rpc/wire-frame.js';
import { MasterMethods } from '../../src/common/rpc/services.js';
import { codeOf, WAIT_MS } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { masterTls } from '../helpers/credentials.js';
import { readCredentials, type Credentials } from '../../src/common/security/credentials-file.js';
import { ALPN_WIRE, clientTlsOptions } from '../../src/common/security/tls-options.js';

/** The cluster's admin credential (set once the cluster runs): raw connections speak TLS too. */
let admin: Credentials;

/** Sends raw bytes after the preface; resolves with the frames answered until the server closes or `want` arrive. */
function raw(address: string, bytes: Buffer, want: number): Promise<{ frames: { kind: number; id: number; body: Buffer }[]; closed: boolean }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = connect({ host, port, ...clientTlsOptions(admin, 'master', ALPN_WIRE) });
    const reader = new FrameReader();
    const frames: { kind: number; id: number; body: Buffer }[] = [];
    const done = (closed: boolean): void => {
      s.destroy();
      resolve({ frames, closed });
    };
    // A deadline, not a wait: a server that neither answers nor closes fails the test's checks.
    const timer = setTimeout(() => done(false), WAIT_MS);
    s.on('data', (d: Buffer) => {
      frames.push(...reader.push(d));
      if (frames.length >= want) {
        clearTimeout(timer);
        done(false);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      done(true);
    });
    s.on('error', () => undefined);
    s.write(Buffer.concat([PREFACE, bytes]));
  });
}

function request(id: number, method: string, payload: Buffer): Buffer {
  const prefix = requestPrefix(method, 10_000);
  return Buffer.concat([frameHeader(FrameKind.REQUEST, id, prefix.length + payload.length), prefix, payload]);
}

describe('unary call transport', () => {
  let cluster: ProcessCluster;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 1, replication: 1 });
    admin = await readCredentials(cluster.credentials);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('carries many calls at once on one connection, each with its own answer or errno', async () => {
    const meta = new MetaClient(cluster.masterAddress, { tls: await masterTls(cluster.masterAddress) });
    try {
      const made = await Promise.all(Array.from({ length: 50 }, (_, i) => meta.mkdir(1, `d${i}`, 0o755)));
      const found = await Promise.all(made.map((m, i) => meta.lookup(1, `d${i}`).then((a) => a.ino === m.attr.ino)));
      expect(found.every(Boolean)).toBe(true);
      const codes = await Promise.all([codeOf(meta.lookup(1, 'missing')), codeOf(meta.mkdir(1, 'd3', 0o755)), codeOf(meta.rmdir(1, 'nope'))]);
      expect(codes).toEqual(['ENOENT', 'EEXIST', 'ENOENT']);
    } finally {
      meta.close();
    }
  });

  it('fails a call at its deadline, and on abort, and serves the next ones', async () => {
    const ch = new WireChannel(cluster.masterAddress, { credentials: admin, server: 'master' });
    try {
      const payload = MasterMethods.GetAttr.serializeRequest({ ino: 1 });
      const ac = new AbortController();
      const aborted = ch.call(MasterMethods.GetAttr.path, payload, 10_000, ac.signal);
      ac.abort();
      await expect(aborted).rejects.toMatchObject({ code: status.CANCELLED });
      await expect(ch.call(MasterMethods.GetAttr.path, payload, 0.001)).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
      const ok = MasterMethods.GetAttr.deserializeResponse(await ch.call(MasterMethods.GetAttr.path, payload, 10_000));
      expect(ok.attr?.ino).toBe(1);
    } finally {
      ch.close();
    }
  });

  it('answers UNAVAILABLE while the daemon is down, and reconnects once it is back', async () => {
    const meta = new MetaClient(cluster.masterAddress, { tls: await masterTls(cluster.masterAddress), retryForMs: 0 });
    try {
      expect((await meta.getAttr(1)).ino).toBe(1);
      const address = cluster.master.address;
      await cluster.master.kill();
      const err = await meta.getAttr(1).catch((e: unknown) => e);
      const cause = (err as { cause?: unknown }).cause;
      expect(isServiceError(cause) && cause.code).toBe(status.UNAVAILABLE);
      await cluster.startMaster(address);
      const again = new MetaClient(cluster.masterAddress, { tls: await masterTls(cluster.masterAddress), retryForMs: 20_000 });
      expect((await again.getAttr(1)).ino).toBe(1);
      again.close();
    } finally {
      meta.close();
    }
  });

  it('answers unknown methods and undecodable requests with a status, and drops a connection that sends garbage', async () => {
    const unknown = await raw(cluster.masterAddress, request(7, '/fst.MasterService/Nope', Buffer.alloc(0)), 1);
    expect(unknown.frames[0]?.kind).toBe(FrameKind.FAILURE);
    expect(parseFailure(unknown.frames[0]!.body).code).toBe(status.UNIMPLEMENTED);
    const garbage = await raw(cluster.masterAddress, request(8, MasterMethods.Lookup.path, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), 1);
    expect(garbage.frames[0]?.id).toBe(8);
    expect(parseFailure(garbage.frames[0]!.body).code).toBe(status.INVALID_ARGUMENT);
    // A well-formed request with nonsense in it: the daemon's errno.
    const nonsense = await raw(cluster.masterAddress, request(9, MasterMethods.Lookup.path, MasterMethods.Lookup.serializeRequest({ parent: 0, name: 'x' })), 1);
    expect(errnoOfServiceError({ code: parseFailure(nonsense.frames[0]!.body).code, metadata: undefined as never })).toBe('EINVAL');
    expect(parseFailure(nonsense.frames[0]!.body).errno).toBe('EINVAL');
    // Frames that cannot be read end the connection, not the daemon.
    const bad = Buffer.alloc(9);
    bad.writeUInt32BE(0xffff_fff0, 0);
    expect((await raw(cluster.masterAddress, bad, 1)).closed).toBe(true);
    const wrongKind = Buffer.concat([frameHeader(FrameKind.REPLY, 1, 0)]);
    expect((await raw(cluster.masterAddress, wrongKind, 1)).closed).toBe(true);
    const meta = new MetaClient(cluster.masterAddress, { tls: await masterTls(cluster.masterAddress) });
    expect((await meta.getAttr(1)).ino).toBe(1);
    meta.close();
  });
});
