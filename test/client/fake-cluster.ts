/**
 * An in-process fake cluster (FakeMaster + FakeChunkservers on random ports) for client tests that
 * must not depend on the real daemons: it lets the client's protocol handling, write-back and CLI
 * be tested alone, and faults be injected where the real daemons cannot.
 */
import { FakeChunkserver } from './fake-chunkserver.js';
import { FakeMaster } from './fake-master.js';

export interface FakeCluster {
  master: FakeMaster;
  chunkservers: FakeChunkserver[];
  stop(): Promise<void>;
}

export async function startFakeCluster(opts: { chunkservers?: number; replication?: number; chunkSize?: number } = {}): Promise<FakeCluster> {
  const chunkservers = await Promise.all(Array.from({ length: opts.chunkservers ?? 3 }, () => new FakeChunkserver().start()));
  const master = await new FakeMaster(chunkservers, opts.replication ?? 2, opts.chunkSize).start();
  return {
    master,
    chunkservers,
    async stop() {
      await master.stop();
      await Promise.all(chunkservers.map((c) => c.stop()));
    },
  };
}
