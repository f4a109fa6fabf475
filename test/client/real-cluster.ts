/**
 * A real FST cluster for client tests: one master in this process (SQLite file in a temp dir, or
 * with FST_TEST_META=postgres a fresh PostgreSQL database: test/helpers/meta-engine.ts) and
 * N chunkservers on 127.0.0.1 with random ports, in this process or, when a test must freeze or
 * kill one, as `bin/fst-chunkserver.js` processes (started first, so they get the lowest server
 * ids). `startRealCluster` returns once the master sees every chunkserver alive. `stop()` (or
 * `await using`) closes every client and stops every daemon and process it started, then removes
 * the temp dir; it is idempotent, and a cluster that fails to start cleans up itself.
 *
 * Faults are made with real means only: `stopChunkserver(i)` stops a daemon for good (its port then
 * refuses connections and the master drops it at once, as the heartbeat stream ends);
 * `freezeChunkserver(i)` SIGSTOPs a process, which the master keeps listing until `deadAfterMs`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChunkserver, type Chunkserver } from '../../src/chunkserver/chunkserver.js';
import { FstClient, type FstClientOptions } from '../../src/client/fst-client.js';
import { silentLogger } from '../../src/common/log/logger.js';
import { readCredentials, type Credentials } from '../../src/common/security/credentials-file.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { AdminMethods } from '../../src/common/rpc/services.js';
import { startMaster, type Master } from '../../src/master/master.js';
import type { fst } from '../../src/proto-gen/fst.js';
import { forgetCredentials, registerCredentials } from '../helpers/credentials.js';
import { DaemonProcess, REPO_ROOT } from '../helpers/daemon-process.js';
import { createMetaDatabase, dropMetaDatabase, ON_POSTGRES } from '../helpers/meta-engine.js';
import { waitFor, WAIT_MS } from '../helpers/probes.js';

export interface RealClusterOptions {
  /** Chunkservers in this process. @default 3 */
  chunkservers?: number;
  /** Chunkservers as child processes (need dist/, see ensureBuilt), started before the others. @default 0 */
  processChunkservers?: number;
  /** @default 2 */
  replication?: number;
  /** How long the master waits before it calls a silent chunkserver dead. @default 10000 */
  deadAfterMs?: number;
}

export interface ChunkserverSlot {
  index: number;
  dataDir: string;
  address: string;
  /** Set for an in-process chunkserver. */
  daemon?: Chunkserver;
  /** Set for a chunkserver process. */
  process?: DaemonProcess;
  running: boolean;
}

export class RealCluster implements AsyncDisposable {
  master: Master | undefined;
  readonly chunkservers: ChunkserverSlot[] = [];
  private readonly clients = new Set<FstClient>();
  /** The master's admin credential (what every client and chunkserver here presents). */
  credentials: Credentials | undefined;
  /** The master's PostgreSQL database (FST_TEST_META=postgres); undefined on SQLite. */
  meta: string | undefined;
  private stopped: Promise<void> | undefined;

  private constructor(readonly root: string) {}

  static async start(o: RealClusterOptions = {}): Promise<RealCluster> {
    const c = new RealCluster(await mkdtemp(join(tmpdir(), 'fst-client-test-')));
    try {
      if (ON_POSTGRES) c.meta = await createMetaDatabase();
      c.master = await startMaster({
        dataDir: join(c.root, 'master'), meta: c.meta, listen: '127.0.0.1:0', replication: o.replication ?? 2,
        heartbeatIntervalMs: 300, deadAfterMs: o.deadAfterMs ?? 10_000, gcIntervalMs: 1_000, log: silentLogger,
      });
      c.credentials = await readCredentials(c.master.adminCredentials!);
      registerCredentials(c.address, c.master.adminCredentials!);
      const processes = o.processChunkservers ?? 0;
      for (let i = 0; i < processes; i++) {
        const index = c.chunkservers.length;
        const dataDir = join(c.root, `cs${index}`);
        const slot: ChunkserverSlot = { index, dataDir, address: '', running: true };
        c.chunkservers.push(slot);
        slot.process = await DaemonProcess.start(`fst-chunkserver ${index}`, 'fst-chunkserver.js',
          ['--master', c.address, '--data', dataDir, '--listen', '127.0.0.1:0', '--credentials', c.master.adminCredentials!]);
        slot.address = slot.process.address;
        // One at a time: the registration order fixes the server ids.
        await c.waitForAlive(index + 1);
      }
      for (let i = 0; i < (o.chunkservers ?? 3); i++) {
        const index = c.chunkservers.length;
        const dataDir = join(c.root, `cs${index}`);
        const daemon = await startChunkserver({
          master: c.address, dataDirs: [dataDir], listen: '127.0.0.1:0', logger: silentLogger, shutdownGraceMs: 1_000, credentials: c.credentials,
        });
        c.chunkservers.push({ index, dataDir, address: daemon.address, daemon, running: true });
      }
      await c.waitForAlive(c.chunkservers.length);
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
    const rpc = new RpcClient(this.address, { retryForMs: 0, timeoutMs: 5_000, tls: { credentials: this.credentials!, server: 'master' } });
    try {
      return await rpc.unary(AdminMethods.GetClusterStatus, {});
    } finally {
      rpc.close();
    }
  }

  /** Waits until the master reports at least `n` chunkservers alive. */
  async waitForAlive(n: number, timeoutMs = WAIT_MS): Promise<void> {
    await waitFor(`${n} live chunkservers`, async () => {
      const alive = (await this.status()).servers.filter((s) => s.state === 'alive').length;
      if (alive < n) throw new Error(`${alive} alive`);
      return true;
    }, timeoutMs);
  }

  /** A connected FstClient, closed by stop() if the test does not close it. */
  async client(options: Partial<FstClientOptions> = {}): Promise<FstClient> {
    const c = new FstClient({ master: this.address, credentials: this.credentials, ...options });
    this.clients.add(c);
    await c.connect();
    return c;
  }

  /** The chunkserver slot listening at `address`. */
  slotAt(address: string): ChunkserverSlot {
    const slot = this.chunkservers.find((s) => s.address === address);
    if (!slot) throw new Error(`no chunkserver of this cluster at ${address}`);
    return slot;
  }

  private slot(index: number): ChunkserverSlot {
    const slot = this.chunkservers[index];
    if (!slot) throw new Error(`no chunkserver ${index}`);
    return slot;
  }

  /** Stops chunkserver `index` for good (an orderly stop; a process gets SIGTERM). */
  async stopChunkserver(index: number): Promise<void> {
    const slot = this.slot(index);
    slot.running = false;
    await slot.daemon?.stop();
    await slot.process?.stop();
  }

  /** SIGSTOPs chunkserver process `index`: it keeps its connections but never answers again. */
  freezeChunkserver(index: number): void {
    const child = this.slot(index).process?.child;
    if (!child) throw new Error(`chunkserver ${index} is not a process`);
    this.slot(index).running = false;
    child.kill('SIGSTOP');
  }

  /**
   * Kills chunkserver processes (SIGKILL: a frozen one ignores SIGTERM), closes clients, stops the
   * in-process chunkservers and the master, removes the temp dir. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      // Processes go first: a frozen one would hold up every call to it until its deadline.
      await Promise.allSettled(this.chunkservers.map((s) => s.process?.kill()));
      // A client whose handles cannot flush (the fault tests) throws from close: it is closed anyway.
      await Promise.allSettled([...this.clients].map((c) => c.close()));
      await Promise.allSettled(this.chunkservers.map((s) => s.daemon?.stop()));
      await this.master?.stop().catch(() => undefined);
      if (this.master) forgetCredentials(this.master.address);
      if (this.meta !== undefined) await dropMetaDatabase(this.meta).catch((e: unknown) => console.error('dropping the test database failed', e));
      await rm(this.root, { recursive: true, force: true });
    })();
    return this.stopped;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

export const startRealCluster = (o?: RealClusterOptions): Promise<RealCluster> => RealCluster.start(o);

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, await newestMtime(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.proto')) newest = Math.max(newest, (await stat(p)).mtimeMs);
  }
  return newest;
}

/**
 * Runs `npm run build` when dist/ (what the bin/ entry points load) is missing or older than a
 * source file, so that spawned CLIs and daemons run the code under test.
 */
export async function ensureBuilt(): Promise<void> {
  const built = await Promise.all(['cli/main.js', 'admin/main.js', 'chunkserver/main.js', 'master/main.js']
    .map((f) => stat(join(REPO_ROOT, 'dist', f)).then((s) => s.mtimeMs, () => 0)));
  const sources = Math.max(await newestMtime(join(REPO_ROOT, 'src')), await newestMtime(join(REPO_ROOT, 'proto')));
  if (Math.min(...built) > sources) return;
  await new Promise<void>((resolve, reject) => {
    execFile('npm', ['run', 'build'], { cwd: REPO_ROOT, timeout: 180_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      (err ? reject(new Error(`npm run build failed: ${err.message}\n${stdout}${stderr}`)) : resolve()));
  });
}
