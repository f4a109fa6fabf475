/**
 * Several fst-master processes on one PostgreSQL database (one active, the others standing by)
 * and N chunkservers given the list of masters, for the tests of "several masters, one active".
 * Masters run `--insecure` (or with TLS: `tls`) on 127.0.0.1 with random ports (or inside a NetLab host: `masterPrefix`),
 * each with its own data directory. `stop()` stops every process by PID and removes the temp dirs.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminStatus, type StatusJson } from './cli.js';
import { adminCredentialsPath, copyIdentity, forgetCredentials, registerCredentials } from './credentials.js';
import { DaemonProcess } from './daemon-process.js';
import { waitFor, WAIT_MS } from './probes.js';

export interface HaClusterOptions {
  /** postgres:// URL of an empty database. */
  meta: string;
  masters?: number;
  chunkservers?: number;
  replication?: number;
  /** The active master's lease (--master-lease-ms). @default 5000 */
  masterLeaseMs?: number;
  /** Listen address of master `i` (default 127.0.0.1:0). */
  masterListen?: (i: number) => string;
  /** A command that execs master `i` (e.g. `ip netns exec NS`). */
  masterPrefix?: (i: number) => string[];
  /** The --meta URL master `i` uses (default `meta`). */
  masterMeta?: (i: number) => string;
  /** Where chunkservers listen (masters in a NetLab host reach them at the lab's root address). @default 127.0.0.1:0 */
  chunkserverListen?: string;
  /**
   * TLS and credentials (the default of a real cluster): the first master makes the cluster
   * identity, which is copied into the other masters' data directories before they start, and
   * the admin credential is registered for the list (test/helpers/credentials.ts). @default false
   */
  tls?: boolean;
}


export class HaCluster {
  readonly masters: DaemonProcess[] = [];
  readonly chunkservers: DaemonProcess[] = [];
  private constructor(readonly root: string, readonly o: Required<HaClusterOptions>) {}

  static async start(options: HaClusterOptions): Promise<HaCluster> {
    const o: Required<HaClusterOptions> = {
      masters: 2, chunkservers: 3, replication: 2, masterLeaseMs: 5_000, masterListen: () => '127.0.0.1:0', masterPrefix: () => [],
      masterMeta: () => options.meta, chunkserverListen: '127.0.0.1:0', tls: false, ...options,
    };
    const c = new HaCluster(await mkdtemp(join(tmpdir(), 'fst-ha-')), o);
    try {
      for (let i = 0; i < o.masters; i++) {
        if (i > 0 && o.tls) await c.copyIdentity(i);
        c.masters.push(await c.spawnMaster(i, o.masterListen(i), i === 0 ? 'listening' : 'standby'));
      }
      if (o.tls) registerCredentials(c.masterList, c.credentials);
      for (let i = 0; i < o.chunkservers; i++) {
        c.chunkservers.push(await DaemonProcess.start(`fst-chunkserver-${i}`, 'fst-chunkserver.js', [
          '--master', c.masterList, '--data', join(c.root, `cs${i}`), '--listen', o.chunkserverListen, ...(o.tls ? ['--credentials', c.credentials] : []),
        ]));
      }
      await c.waitForChunkservers(o.chunkservers);
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  /** The admin credential the first master wrote (with `tls`). */
  get credentials(): string {
    return adminCredentialsPath(join(this.root, 'm0'));
  }

  /** Copies the first master's cluster identity into master `i`'s data directory, as an operator does. */
  private async copyIdentity(i: number): Promise<void> {
    await mkdir(join(this.root, `m${i}`), { recursive: true });
    await copyIdentity(join(this.root, 'm0'), join(this.root, `m${i}`));
  }

  private spawnMaster(i: number, listen: string, ready: 'listening' | 'standby'): Promise<DaemonProcess> {
    return DaemonProcess.start(`fst-master-${i}`, 'fst-master.js', [
      '--data', join(this.root, `m${i}`), '--meta', this.o.masterMeta(i), '--listen', listen, ...(this.o.tls ? [] : ['--insecure']),
      '--replication', String(this.o.replication), '--master-lease-ms', String(this.o.masterLeaseMs),
      '--heartbeat-interval-ms', '500', '--dead-after-ms', '3000', '--gc-interval-ms', '1000',
      // Chunk leases of 10 s instead of 60: a takeover waits out the old master's leases of the
      // chunks being written (as a restart does), and the tests write across a takeover.
      '--lease-ms', '10000',
    ], {}, ready, this.o.masterPrefix(i));
  }

  /** Every master's address, comma-separated, as clients are given it. */
  get masterList(): string {
    return this.masters.map((m) => m.address).join(',');
  }

  /** Starts master `i` again on its old address (it comes back as a standby when another is active). */
  async restartMaster(i: number, ready: 'listening' | 'standby' = 'standby'): Promise<void> {
    this.masters[i] = await this.spawnMaster(i, this.masters[i]!.address, ready);
  }

  /** `fstadmin status --json` through the list of masters. */
  status(): Promise<StatusJson> {
    return adminStatus(this.masterList) as Promise<StatusJson>;
  }

  /** Waits until the status names `address` the active master; answers that status. */
  async waitForActive(address: string, timeoutMs = WAIT_MS): Promise<StatusJson> {
    return waitFor(`${address} active`, async () => {
      const s = await this.status();
      const active = s.masters?.find((m) => m.role === 'active');
      if (active?.address !== address) throw new Error(`active: ${active?.address ?? 'none'}`);
      return s;
    }, timeoutMs, 100);
  }

  async waitForChunkservers(n: number, timeoutMs = WAIT_MS): Promise<void> {
    await waitFor(`${n} live chunkservers`, async () => {
      const alive = (await this.status()).servers.filter((s) => s.state === 'alive').length;
      if (alive < n) throw new Error(`${alive} alive`);
      return true;
    }, timeoutMs, 200);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.chunkservers, ...this.masters].map((p) => p.stop().catch(() => undefined)));
    if (this.o.tls) forgetCredentials(this.masterList);
    await rm(this.root, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
