/**
 * A stand-in for the master's ChunkserverRegistryService that records every heartbeat, so that a
 * test can see exactly what a chunkserver reports (the real master's handling is tested with it).
 */
import { silentLogger } from '../../src/common/log/logger.js';
import { addService, bindRpcServer, createRpcServer } from '../../src/common/rpc/server.js';
import { RegistryMethods } from '../../src/common/rpc/services.js';
import { uint64 } from '../../src/chunkserver/rpc/validate.js';
import type { fst } from '../../src/proto-gen/fst.js';
import type { Cleanup } from './helpers.js';

export interface RecordedBeat {
  fullReport: boolean;
  chunks: number[];
  removed: number[];
  corrupt: number[];
}

export class FakeRegistry {
  private constructor(readonly address: string, readonly beats: RecordedBeat[]) {}

  static async start(cleanup: Cleanup, heartbeatIntervalMs = 100): Promise<FakeRegistry> {
    const server = createRpcServer(silentLogger);
    const beats: RecordedBeat[] = [];
    addService(server, RegistryMethods, {
      RegisterChunkserver: () => Promise.resolve({ serverId: 1, heartbeatIntervalMs }),
      Heartbeat: async (call) => {
        for await (const raw of call) {
          const hb = raw as fst.HeartbeatRequest;
          beats.push({
            fullReport: hb.fullReport,
            chunks: hb.chunks.map((c) => uint64(c.chunkId)),
            removed: hb.removed.map(uint64),
            corrupt: hb.corrupt.map(uint64),
          });
        }
      },
    }, silentLogger);
    const port = await bindRpcServer(server, '127.0.0.1:0');
    cleanup.add(() => server.forceShutdown());
    return new FakeRegistry(`127.0.0.1:${port}`, beats);
  }

  /** Every chunk reported corrupt so far. */
  get corrupt(): number[] {
    return this.beats.flatMap((b) => b.corrupt);
  }
  /** Every chunk reported removed so far. */
  get removed(): number[] {
    return this.beats.flatMap((b) => b.removed);
  }
}
