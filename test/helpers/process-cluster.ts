/**
 * A real FST cluster of separate processes for tests: one fst-master and N fst-chunkservers on
 * 127.0.0.1 with random ports and temp dirs. `await using c = await startProcessCluster(...)` stops
 * every process and removes the temp dirs even when the test fails.
 *
 * The master's metadata engine is the run's (test/helpers/meta-engine.ts): with
 * FST_TEST_META=postgres the cluster gets a fresh PostgreSQL database, which every start of its
 * master (restarts included) is given with `--meta`, and which `stop()` drops.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminCredentialsPath, forgetCredentials, registerCredentials } from './credentials.js';
import { DaemonProcess } from './daemon-process.js';
import { createMetaDatabase, dropMetaDatabase, ON_POSTGRES } from './meta-engine.js';
import { waitFor, WAIT_MS } from './probes.js';

export interface ProcessClusterOptions {
  chunkservers?: number;
  replication?: number;
  /** Extra master flags. */
  masterArgs?: string[];
  /** Extra environment of the master process. */
  masterEnv?: NodeJS.ProcessEnv;
  /** Extra fst-chunkserver flags per chunkserver index (e.g. `--reserve`). */
  chunkserverArgs?: (index: number) => string[];
  /**
   * The data directory of chunkserver `index` (e.g. a tmpfs the test mounted); undefined keeps the
   * default `<root>/cs<index>`. Directories outside the cluster root are not removed by `stop()`.
   */
  chunkserverDataDir?: (index: number) => string | undefined;
  /**
   * The master's metadata engine: 'run' (default) follows FST_TEST_META; 'sqlite' keeps SQLite
   * whatever it says (a test that chooses its engines itself). A `--meta` in masterArgs wins.
   */
  engine?: 'run' | 'sqlite';
}

export interface ChunkserverHandle {
  index: number;
  dataDir: string;
  process: DaemonProcess;
}

export class ProcessCluster {
  master!: DaemonProcess;
  readonly chunkservers: ChunkserverHandle[] = [];
  /** The PostgreSQL database of the master's metadata (FST_TEST_META=postgres); undefined on SQLite. */
  meta: string | undefined;
  private constructor(readonly root: string, readonly opts: Required<ProcessClusterOptions>) {}

  static async start(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const opts: Required<ProcessClusterOptions> = {
      chunkservers: 3, replication: 2, masterArgs: [], masterEnv: {}, chunkserverArgs: () => [], chunkserverDataDir: () => undefined, engine: 'run', ...options,
    };
    const root = await mkdtemp(join(tmpdir(), 'fst-test-'));
    const c = new ProcessCluster(root, opts);
    try {
      if (ON_POSTGRES && opts.engine === 'run' && !opts.masterArgs.includes('--meta')) c.meta = await createMetaDatabase();
      await c.startMaster('127.0.0.1:0');
      for (let i = 0; i < opts.chunkservers; i++) await c.addChunkserver();
      await c.waitForChunkservers(opts.chunkservers);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  get masterAddress(): string {
    return this.master.address;
  }

  get masterDataDir(): string {
    return join(this.root, 'master');
  }

  /** Starts the master on `listen` (with `extraArgs` beside the cluster's masterArgs, e.g. `--restore FILE`). */
  async startMaster(listen: string, extraArgs: string[] = []): Promise<void> {
    this.master = await DaemonProcess.start('fst-master', 'fst-master.js', [
      '--data', this.masterDataDir, '--listen', listen, '--replication', String(this.opts.replication),
      '--heartbeat-interval-ms', '500', '--dead-after-ms', '3000', '--gc-interval-ms', '1000', ...this.metaArgs, ...this.opts.masterArgs, ...extraArgs,
    ], this.opts.masterEnv);
    if (!this.insecure) registerCredentials(this.master.address, this.credentials);
  }

  /** `--meta URL` of the cluster's PostgreSQL database; none on SQLite. */
  get metaArgs(): string[] {
    return this.meta === undefined ? [] : ['--meta', this.meta];
  }

  /**
   * PostgreSQL: the master's next start gets a new empty database and the old one is dropped (its
   * metadata lost, as a lost data directory loses SQLite's). Call with the master stopped.
   */
  async loseMetaDatabase(): Promise<void> {
    if (this.meta === undefined) return;
    const old = this.meta;
    this.meta = await createMetaDatabase();
    await dropMetaDatabase(old);
  }

  /** Whether the master runs `--insecure` (plaintext, no credentials). */
  get insecure(): boolean {
    return this.opts.masterArgs.includes('--insecure');
  }

  /** The admin credential the master wrote at its first start. */
  get credentials(): string {
    return adminCredentialsPath(this.masterDataDir);
  }

  /** Stops the master (SIGTERM or kill -9) and starts it again on the same port and data. */
  async restartMaster(how: 'term' | 'kill' = 'term'): Promise<void> {
    const address = this.master.address;
    if (how === 'kill') await this.master.kill();
    else await this.master.stop();
    await this.startMaster(address);
  }

  async addChunkserver(): Promise<ChunkserverHandle> {
    const index = this.chunkservers.length;
    const dataDir = this.opts.chunkserverDataDir(index) ?? join(this.root, `cs${index}`);
    const process = await this.spawnChunkserver(dataDir, '127.0.0.1:0', index);
    const h = { index, dataDir, process };
    this.chunkservers.push(h);
    return h;
  }

  private spawnChunkserver(dataDir: string, listen: string, index: number): Promise<DaemonProcess> {
    return DaemonProcess.start(`fst-chunkserver-${dataDir}`, 'fst-chunkserver.js', [
      '--master', this.master.address, '--data', dataDir, '--listen', listen, ...(this.insecure ? [] : ['--credentials', this.credentials]),
      ...this.opts.chunkserverArgs(index),
    ]);
  }

  /** Restarts a chunkserver on its old address and data directory. */
  async restartChunkserver(index: number): Promise<void> {
    const h = this.chunkservers[index]!;
    if (h.process.running) await h.process.stop();
    h.process = await this.spawnChunkserver(h.dataDir, h.process.address, index);
  }

  /** Waits until the master reports `n` live chunkservers (via fstadmin status --json). */
  async waitForChunkservers(n: number, timeoutMs = WAIT_MS): Promise<void> {
    const { adminStatus } = await import('./cli.js');
    await waitFor(`${n} live chunkservers`, async () => {
      const alive = (await adminStatus(this.masterAddress)).servers.filter((s) => s.state === 'alive').length;
      if (alive < n) throw new Error(`${alive} alive`);
      return true;
    }, timeoutMs, 200);
  }

  async stop(): Promise<void> {
    await Promise.all(this.chunkservers.map((c) => c.process.stop().catch(() => undefined)));
    if (this.master) {
      await this.master.stop().catch(() => undefined);
      forgetCredentials(this.master.address);
    }
    if (this.meta !== undefined) await dropMetaDatabase(this.meta).catch((e: unknown) => console.error('dropping the test database failed', e));
    await rm(this.root, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

export const startProcessCluster = (o?: ProcessClusterOptions): Promise<ProcessCluster> => ProcessCluster.start(o);
