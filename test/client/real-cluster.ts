/**
 * A real FST cluster in this process for client tests: one master (SQLite file in a temp dir) and N
 * chunkservers, all on 127.0.0.1 with random ports. `startRealCluster` returns once the master sees
 * every chunkserver alive. `stop()` (or `await using`) stops every daemon and client it started and
 * removes the temp dir, and is safe to call twice; a cluster that fails to start cleans up itself.
 *
 * Faults are made with real means: `stopChunkserver(i)` stops a daemon for good (its port refuses
 * connections, the master lists it until `deadAfterMs` passes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChunkserver, type Chunkserver } from '../../src/chunkserver/chunkserver.js';
import { FstClient, type FstClientOptions } from '../../src/client/fst-client.js';
import { silentLogger } from '../../src/common/log/logger.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { AdminMethods } from '../../src/common/rpc/services.js';
import { startMaster, type Master } from '../../src/master/master.js';
import type { fst } from '../../src/proto-gen/fst.js';

export interface RealClusterOptions {
  /** @default 3 */
  chunkservers?: number;
  /** @default 2 */
  replication?: number;
  /** How long the master waits before it calls a silent chunkserver dead. @default 10000 */
  deadAfterMs?: number;
}

export interface ChunkserverSlot {
  index: number;
  dataDir: string;
  daemon: Chunkserver;
  running: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class RealCluster implements AsyncDisposable {
  master: Master | undefined;
  readonly chunkservers: ChunkserverSlot[] = [];
  private readonly clients = new Set<FstClient>();
  private stopped: Promise<void> | undefined;

  private constructor(readonly root: string) {}

  static async start(o: RealClusterOptions = {}): Promise<RealCluster> {
    const c = new RealCluster(await mkdtemp(join(tmpdir(), 'fst-client-test-')));
    try {
      c.master = await startMaster({
        dataDir: join(c.root, 'master'), listen: '127.0.0.1:0', replication: o.replication ?? 2,
        heartbeatIntervalMs: 300, deadAfterMs: o.deadAfterMs ?? 10_000, gcIntervalMs: 1_000, log: silentLogger,
      });
      const n = o.chunkservers ?? 3;
      for (let i = 0; i < n; i++) {
        const dataDir = join(c.root, `cs${i}`);
        const daemon = await startChunkserver({ master: c.address, dataDirs: [dataDir], listen: '127.0.0.1:0', logger: silentLogger, shutdownGraceMs: 1_000 });
        c.chunkservers.push({ index: i, dataDir, daemon, running: true });
      }
      await c.waitForAlive(n);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  get address(): string {
    if (!this.master) throw new Error('the master is not running');
    return this.master.address;
  }

  /** What `fstadmin status` reports, straight from AdminService. */
  async status(): Promise<fst.GetClusterStatusResponse> {
    const rpc = new RpcClient(this.address, { retryForMs: 0, timeoutMs: 5_000 });
    try {
      return await rpc.unary(AdminMethods.GetClusterStatus, {});
    } finally {
      rpc.close();
    }
  }

  /** Waits until the master reports at least `n` chunkservers alive. */
  async waitForAlive(n: number, timeoutMs = 20_000): Promise<void> {
    let alive = 0;
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(100)) {
      alive = (await this.status()).servers.filter((s) => s.state === 'alive').length;
      if (alive >= n) return;
    }
    throw new Error(`only ${alive} of ${n} chunkservers alive after ${timeoutMs} ms`);
  }

  /** A connected FstClient, closed by stop() if the test does not close it. */
  async client(options: Partial<FstClientOptions> = {}): Promise<FstClient> {
    const c = new FstClient({ master: this.address, ...options });
    this.clients.add(c);
    await c.connect();
    return c;
  }

  /** The chunkserver slot listening at `address`. */
  slotAt(address: string): ChunkserverSlot {
    const slot = this.chunkservers.find((s) => s.daemon.address === address);
    if (!slot) throw new Error(`no chunkserver of this cluster at ${address}`);
    return slot;
  }

  /** Stops chunkserver `index` (its port then refuses connections). */
  async stopChunkserver(index: number): Promise<void> {
    const slot = this.chunkservers[index];
    if (!slot) throw new Error(`no chunkserver ${index}`);
    slot.running = false;
    await slot.daemon.stop();
  }

  /** Stops clients, chunkservers and master, then removes the temp dir. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // A client whose handles cannot flush (the faults tests) throws from close: it is closed anyway.
      await Promise.allSettled([...this.clients].map((c) => c.close()));
      await Promise.allSettled(this.chunkservers.map((s) => s.daemon.stop()));
      await this.master?.stop().catch(() => undefined);
      await rm(this.root, { recursive: true, force: true });
    })();
    return this.stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

export const startRealCluster = (o?: RealClusterOptions): Promise<RealCluster> => RealCluster.start(o);
