/**
 * The client core: one MetaClient, one ChunkClient and one Vfs over them, built here for every
 * front end, which are thin adapters over it (the shape of JuiceFS, whose pkg/fs path API and FUSE
 * layer both sit on pkg/vfs):
 *
 *   fst-mount (client/fuse)            FUSE requests by inode -> Vfs
 *   FstClient (client/fst-client.ts)   paths -> PathResolver over Vfs.lookup -> Vfs; used by `fst`
 *                                      (src/cli), tests, and the HTTP gateway (src/gateway)
 *
 * So every front end has one write path (one FileWriter per open inode, under one write-back
 * memory budget), one read path (FileReader over the shared BlockCache) and one name cache
 * (EntryCache), whose TTL each front end chooses: the mount trusts names for its entry timeout,
 * FstClient for none by default (every path resolution asks the master).
 */
import type { Credentials } from '../common/security/credentials-file.js';
import { FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import { parseHostPortList } from '../common/config/address.js';
import { silentLogger, type Logger } from '../common/log/logger.js';
import { ChunkClient } from './chunk-client.js';
import { MetaClient, type Identity } from './meta-client.js';
import type { ReadOptions } from './read/file-reader.js';
import type { Caller } from './types.js';
import { Vfs } from './vfs/vfs.js';
import type { WritebackOptions } from './writeback/file-writer.js';

export interface ClientCoreOptions {
  /** The master's host:port. */
  master: string;
  /** Deadline of each master call. @default 30000 */
  rpcTimeoutMs?: number;
  /** How long an unreachable daemon is retried before a call fails. @default 10000 */
  retryForMs?: number;
  /** Deadline of one chunk read (ReadRange, at most 1 MiB). @default 60000 */
  readTimeoutMs?: number;
  /** Deadline of one WriteRange call, replication included. @default 120000 */
  writeTimeoutMs?: number;
  /** The identity sent with requests that name none. @default this process's uid, gid and groups */
  caller?: Caller;
  /** A session for directory delegations (absent: none). */
  session?: string;
  /** The credential presented to the master and chunkservers (TLS); absent: plaintext (`--insecure` clusters). */
  credentials?: Credentials;
  /** How long names and attributes are trusted without asking the master (0: never). Each front end chooses. */
  entryTtlMs: number;
  /** Bytes of the shared read cache. @default 268435456 (256 MiB) */
  cacheBytes?: number;
  read?: ReadOptions;
  writeback?: WritebackOptions;
  /** Write-back memory of all open files together. @default 536870912 (512 MiB) */
  writebackMemoryBytes?: number;
  logger?: Logger;
}

export class ClientCore {
  readonly meta: MetaClient;
  readonly chunks: ChunkClient;
  readonly vfs: Vfs;
  /** What this client's credential allows (GetIdentity), once connected. */
  identity: Identity | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly o: ClientCoreOptions) {
    parseHostPortList(o.master, 'master address');
    const log = o.logger ?? silentLogger;
    this.meta = new MetaClient(o.master, {
      timeoutMs: o.rpcTimeoutMs, retryForMs: o.retryForMs, caller: o.caller, session: o.session,
      tls: o.credentials && { credentials: o.credentials, server: 'master' },
    });
    this.chunks = new ChunkClient({
      tls: o.credentials && { credentials: o.credentials, server: 'chunkserver' },
      retryForMs: o.retryForMs, readTimeoutMs: o.readTimeoutMs, writeTimeoutMs: o.writeTimeoutMs, logger: log,
    });
    this.vfs = new Vfs({
      meta: this.meta, chunks: this.chunks, log, entryTtlMs: o.entryTtlMs, cacheBytes: o.cacheBytes,
      read: o.read, writeback: o.writeback, writebackMemoryBytes: o.writebackMemoryBytes,
    });
  }

  /**
   * Asks the master who this client is (its root directory, read-only, caller map) and checks that
   * it answers within `timeoutMs`; throws ETIMEDOUT otherwise.
   */
  async connect(timeoutMs: number): Promise<Identity> {
    const opts = { timeoutMs, retryForMs: timeoutMs };
    try {
      const identity = await this.meta.getIdentity(opts);
      this.meta.rootIno = identity.rootIno;
      await this.meta.getAttr(this.meta.rootIno, opts);
      this.identity = identity;
      return identity;
    } catch (e) {
      const err = toFsError(e);
      if (err.code !== 'EIO' && err.code !== 'ETIMEDOUT') throw err;
      throw new FsError('ETIMEDOUT', `master ${this.o.master} did not answer within ${timeoutMs} ms`, { cause: err });
    }
  }

  /**
   * Stops the Vfs's background work (orphan renewals, lock sessions) and gives delegated
   * directories back, sending the changes still queued; the connections stay open. Once only.
   */
  stop(): Promise<void> {
    this.stopping ??= this.vfs.close();
    return this.stopping;
  }

  /** stop(), then closes the connections (also when stop failed, whose error it throws). */
  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      this.meta.close();
      this.chunks.close();
    }
  }
}
