/**
 * The gateway's connections to the cluster: one FstClient (the client core, with its caches and
 * write-back) per FST credential and caller that requests act as, made at first use and kept.
 * Each has its own staging directories (its credential may see a subtree as its root).
 */
import { FstClient } from '../client/fst-client.js';
import { readCredentials, type Credentials } from '../common/security/credentials-file.js';
import type { Logger } from '../common/log/logger.js';
import { Staging } from './store/staging.js';

export interface ClusterAccess {
  client: FstClient;
  staging: Staging;
}

export interface ClientPoolOptions {
  master: string;
  /** The gateway's own credential; undefined: plaintext (`--insecure` clusters). */
  credentials: Credentials | undefined;
  /** How long calls wait for an unreachable master or chunkserver. */
  timeoutMs: number;
  log: Logger;
}

export class ClientPool {
  private readonly clients = new Map<string, Promise<ClusterAccess>>();

  constructor(private readonly o: ClientPoolOptions) {}

  /** The connection acting as credential file `credentialsPath` (undefined: the gateway's own) and caller uid:gid. */
  get(credentialsPath: string | undefined, uid: number, gid: number): Promise<ClusterAccess> {
    const key = `${credentialsPath ?? ''}\u0000${uid}:${gid}`;
    let access = this.clients.get(key);
    if (!access) {
      access = this.connect(credentialsPath, uid, gid);
      // A failed connection is tried again by the next request, not remembered.
      access.catch(() => this.clients.delete(key));
      this.clients.set(key, access);
    }
    return access;
  }

  private async connect(credentialsPath: string | undefined, uid: number, gid: number): Promise<ClusterAccess> {
    const credentials = credentialsPath === undefined ? this.o.credentials : await readCredentials(credentialsPath);
    const client = new FstClient({
      master: this.o.master, credentials, caller: { uid, gid, groups: [] }, logger: this.o.log,
      retryForMs: this.o.timeoutMs, rpcTimeoutMs: Math.max(this.o.timeoutMs, 30_000), connectTimeoutMs: 5_000,
    });
    try {
      await client.connect();
    } catch (e) {
      await client.close().catch(() => undefined);
      throw e;
    }
    return { client, staging: new Staging(client) };
  }

  /** Every connection made so far (for the status page and sweeps). */
  async all(): Promise<ClusterAccess[]> {
    const settled = await Promise.allSettled(this.clients.values());
    return settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /** Flushes and closes every connection. */
  async close(): Promise<void> {
    const all = await this.all();
    this.clients.clear();
    await Promise.all(all.map((a) => a.client.close().catch((err: unknown) => this.o.log.warn('closing a cluster connection failed', { err }))));
  }
}
