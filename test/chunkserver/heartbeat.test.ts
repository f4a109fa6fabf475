/**
 * The link to the master, against a small registry server run by the test: registration with the
 * persistent uuid, the full report, deltas, delete_chunks, and re-registration after the master
 * comes back.
 */
import type { Server } from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { addService, bindRpcServer, createRpcServer } from '../../src/common/rpc/server.js';
import { RegistryMethods } from '../../src/common/rpc/services.js';
import type { fst } from '../../src/proto-gen/fst.js';
import { uint64 } from '../../src/chunkserver/rpc/validate.js';
import { Cleanup, clientFor, createChunk, expectErrno, readChunk, startTestServer, tempDir, unusedPort } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface Beat {
  fullReport: boolean;
  reportDone: boolean;
  chunks: { chunkId: number; version: number; length: number }[];
  removed: number[];
  serverId: number;
  chunkCount: number;
  capacityBytes: number;
}

/** A registry that records what chunkservers send and can ask them to delete chunks. */
class TestMaster {
  readonly registrations: fst.RegisterChunkserverRequest[] = [];
  readonly beats: Beat[] = [];
  deletes: number[] = [];
  private server: Server | undefined;

  async start(port: number): Promise<void> {
    const server = createRpcServer();
    addService(server, RegistryMethods, {
      RegisterChunkserver: async (req) => {
        this.registrations.push(req);
        return { serverId: 42, heartbeatIntervalMs: 50 };
      },
      Heartbeat: async (call) => {
        for await (const m of call as AsyncIterable<fst.HeartbeatRequest>) {
          this.beats.push({
            fullReport: m.fullReport, reportDone: m.reportDone, serverId: uint64(m.serverId), chunkCount: uint64(m.chunkCount),
            capacityBytes: uint64(m.capacityBytes), removed: m.removed.map(uint64),
            chunks: m.chunks.map((c) => ({ chunkId: uint64(c.chunkId), version: uint64(c.version), length: uint64(c.length) })),
          });
          if (this.deletes.length > 0) call.write({ deleteChunks: this.deletes.splice(0) });
        }
      },
    }, silentLogger);
    await bindRpcServer(server, `127.0.0.1:${port}`);
    this.server = server;
  }

  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

async function until(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('master link', () => {
  it('registers, reports all chunks, then sends deltas and applies delete_chunks', async () => {
    const dir = join(await tempDir(cleanup), 'd0');
    const port = await unusedPort();
    // Chunks that exist before the master is reachable.
    const cs = await startTestServer(cleanup, { dataDirs: [dir], master: `127.0.0.1:${port}` });
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 51, 2);
    await createChunk(c, 52, 3);
    const master = new TestMaster();
    cleanup.add(() => master.stop());
    await master.start(port);
    await until('full report', () => master.beats.some((b) => b.reportDone));
    expect(master.registrations[0]).toMatchObject({ uuid: cs.uuid, address: cs.address });
    expect(uint64(master.registrations[0]!.capacityBytes)).toBeGreaterThan(0);
    const full = master.beats.filter((b) => b.fullReport);
    expect(full).toHaveLength(1);
    expect(full[0]!.serverId).toBe(42);
    expect(full[0]!.chunks.sort((a, b) => a.chunkId - b.chunkId)).toEqual([
      { chunkId: 51, version: 2, length: 0 }, { chunkId: 52, version: 3, length: 0 },
    ]);

    await createChunk(c, 53, 1);
    await until('delta with chunk 53', () => master.beats.some((b) => b.chunks.some((x) => x.chunkId === 53)));
    master.deletes = [51];
    await until('removal of chunk 51', () => master.beats.some((b) => !b.fullReport && b.removed.includes(51)));
    await expectErrno(readChunk(c, 51, 2, 0, 1), 'ENOENT');
    expect(master.beats.at(-1)!.chunkCount).toBe(2);

    // The master goes away and comes back: the chunkserver registers again with a full report.
    master.stop();
    await new Promise((r) => setTimeout(r, 300));
    await createChunk(c, 54, 1); // served while the master is away
    const before = master.beats.length;
    await master.start(port);
    await until('second full report', () => master.beats.slice(before).some((b) => b.reportDone));
    expect(master.registrations.length).toBeGreaterThanOrEqual(2);
    expect(master.registrations.at(-1)!.uuid).toBe(cs.uuid);
    const again = master.beats.slice(before).find((b) => b.reportDone)!;
    expect(again.chunks.map((x) => x.chunkId).sort()).toEqual([52, 53, 54]);
  });

  it('sends one empty report page when it holds no chunks', async () => {
    const port = await unusedPort();
    const master = new TestMaster();
    cleanup.add(() => master.stop());
    await master.start(port);
    await startTestServer(cleanup, { master: `127.0.0.1:${port}` });
    await until('report', () => master.beats.length > 0);
    expect(master.beats[0]).toMatchObject({ fullReport: true, reportDone: true, chunks: [] });
  });
});
