/**
 * Limits against a careless or hostile client, on real processes: a connection with too many
 * calls in flight is answered RESOURCE_EXHAUSTED while other clients keep working, and a
 * WriteChunk stream that holds its chunk's turn without sending is ended, so the next writer of
 * that chunk gets its turn.
 */
import { connect } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods, MasterMethods } from '../../src/common/rpc/services.js';
import { FrameKind, FrameReader, PREFACE, frameHeader, parseFailure, requestPrefix } from '../../src/common/rpc/wire-frame.js';
import { MAX_CALLS_IN_FLIGHT } from '../../src/common/rpc/wire-server.js';
import { readCredentials, type Credentials } from '../../src/common/security/credentials-file.js';
import { ALPN_WIRE, clientTlsOptions } from '../../src/common/security/tls-options.js';
import type { fst } from '../../src/proto-gen/fst.js';
import { codeOf, waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const IDLE_MS = 1_500;

describe('limits', () => {
  let cluster: ProcessCluster;
  let admin: Credentials;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2, chunkserverArgs: () => ['--write-idle-ms', String(IDLE_MS)] });
    admin = await readCredentials(cluster.credentials);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers calls beyond the in-flight limit of a connection with RESOURCE_EXHAUSTED, and serves other clients meanwhile', async () => {
    const [host, port] = [cluster.masterAddress.split(':')[0]!, Number(cluster.masterAddress.split(':')[1])];
    const socket = connect({ host, port, ...clientTlsOptions(admin, 'master', ALPN_WIRE) });
    socket.on('error', () => undefined);
    const reader = new FrameReader();
    const failures: number[] = [];
    socket.on('data', (d: Buffer) => {
      for (const f of reader.push(d)) if (f.kind === FrameKind.FAILURE) failures.push(parseFailure(f.body).code);
    });
    try {
      // Long polls (each its own session) stay in flight for 20 s: the ones past the limit cannot.
      const calls = MAX_CALLS_IN_FLIGHT + 16;
      const frames: Buffer[] = [PREFACE];
      for (let id = 1; id <= calls; id++) {
        const payload = MasterMethods.AwaitRecall.serializeRequest({ session: `poller-${id}`, waitMs: 20_000 });
        const prefix = requestPrefix(MasterMethods.AwaitRecall.path, 30_000);
        frames.push(frameHeader(FrameKind.REQUEST, id, prefix.length + payload.length), prefix, payload);
      }
      socket.write(Buffer.concat(frames));
      await waitFor('the calls over the limit refused', () => (failures.length >= 16 ? true : undefined));
      expect(failures.every((code) => code === status.RESOURCE_EXHAUSTED)).toBe(true);
      // Another client is served while that connection is full.
      const other = new RpcClient(cluster.masterAddress, { retryForMs: 0, tls: { credentials: admin, server: 'master' } });
      try {
        expect((await other.unary(MasterMethods.Statfs, {})).chunkSize).toBeGreaterThan(0);
      } finally {
        other.close();
      }
    } finally {
      socket.destroy();
    }
  });

  it('ends a WriteChunk stream that holds its chunk without sending, and the next writer gets its turn', async () => {
    const fs = new FstClient({ master: cluster.masterAddress, credentials: admin });
    await fs.connect();
    try {
      await fs.writeFile('/held', Buffer.alloc(256 * 1024, 1));
      const { loc } = await fs.meta.allocateChunk((await fs.stat('/held')).ino, 0);
      const primary = new RpcClient(loc.replicas[0]!.address, { retryForMs: 0, tls: { credentials: admin, server: 'chunkserver' } });
      try {
        const header: fst.IWriteChunkHeader = { chunkId: loc.chunkId, version: loc.version, chain: loc.replicas.slice(1).map((r) => r.address), token: loc.token };
        // A header and then silence: the stream takes the chunk's turn and keeps it.
        const stuck = primary.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 120_000 });
        stuck.call.on('error', () => undefined);
        stuck.call.write({ header, offset: 0, data: Buffer.alloc(0) });
        const stuckOutcome = codeOf(stuck.response);
        const t0 = Date.now();
        // The next writer waits for the turn, which the silent stream loses after IDLE_MS.
        const next = primary.clientStream(ChunkserverMethods.WriteChunk, { timeoutMs: 120_000 });
        next.call.on('error', () => undefined);
        next.call.write({ header, offset: 0, data: Buffer.alloc(4096, 9) });
        next.call.end();
        expect(await codeOf(next.response)).toBe('no error');
        expect(Date.now() - t0).toBeGreaterThanOrEqual(IDLE_MS - 100);
        expect(await stuckOutcome).toBe('ETIMEDOUT');
      } finally {
        primary.close();
      }
    } finally {
      await fs.close();
    }
  });
});
