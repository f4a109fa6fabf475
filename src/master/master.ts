/**
 * The fst-master daemon: opens the database, loads the chunkserver registry, serves the master,
 * registry and admin services, and runs garbage collection; with `metricsListen`, /metrics and
 * /health over HTTP. `stop()` drains in order: stop taking calls, let in-flight ones finish
 * (briefly), close the metrics port, stop background work, close the database.
 */
import { ServiceLifecycle, type CloseReason } from '../common/lifecycle/service.js';
import { createLogger, type Logger, type LogLevel } from '../common/log/logger.js';
import { DaemonMetrics } from '../common/metrics/daemon-metrics.js';
import { lifecycleHealth } from '../common/metrics/health.js';
import { registerMasterMetrics } from '../common/metrics/master-metrics.js';
import { startMetricsServer, type MetricsServer } from '../common/metrics/metrics-server.js';
import { INLINE_LIMIT } from '../common/ids.js';
import { addService, bindRpcServer, createRpcServer, type CallContext } from '../common/rpc/server.js';
import type { fst } from '../proto-gen/fst.js';
import { AdminMethods, MasterMethods, RegistryMethods } from '../common/rpc/services.js';
import { ChunkManager } from './chunks/chunk-manager.js';
import { MasterDb } from './db/database.js';
import { adminServiceHandlers } from './rpc/admin-service.js';
import { MetadataBackups } from './backup/metadata-backups.js';
import { restoreBackup } from './backup/restore.js';
import { loadDumpInto } from './backup/load.js';
import { RestoreState } from './backup/restore-state.js';
import { masterServiceHandlers } from './rpc/master-service.js';
import { LockTable } from './locks/lock-table.js';
import { Delegations } from './sessions/delegations.js';
import { registryServiceHandlers } from './rpc/registry-service.js';
import { ServerRegistry } from './servers/registry.js';
import { authorizeService, callerCredential, identityOf } from './security/authorize.js';
import { SubtreeRoots } from './security/subtree.js';
import { loadOrCreateClusterTls } from './security/cluster-tls.js';
import { readCounters } from './tree/counters.js';
import { Namespace } from './tree/namespace.js';
import { awaitActive } from './ha/await-active.js';
import { claimSqliteDataDir } from './db/sqlite-owner.js';
import { bindAfterStandby, guardWrites } from './ha/active-master.js';

/**
 * The largest request the master takes: its biggest are heartbeat pages (10,000 chunk reports),
 * batches of changes and orphan lists, all well under this.
 */
const MASTER_MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** How often orphans past their lease or grace are freed (a replaced file's space comes back within this and its grace). */
const ORPHAN_SWEEP_MS = 5_000;
/** How long a master that lost its lease may drain before `onFenced` (it serves nothing meanwhile). */
const FENCED_DRAIN_MS = 3_000;

export interface MasterOptions {
  /** Directory holding the SQLite database. */
  dataDir: string;
  /** host:port to serve on; port 0 picks a free one. @default '127.0.0.1:9420' */
  listen?: string;
  /** Default replication goal of new files (the root directory's goal on first start). @default 2 */
  replication?: number;
  /** How often chunkservers beat. @default 1000 */
  heartbeatIntervalMs?: number;
  /** A chunkserver silent this long is dead. @default 10000 */
  deadAfterMs?: number;
  /** Pause between garbage collection passes. @default 5000 */
  gcIntervalMs?: number;
  /** How long a chunk's primary holds its lease from its grant or last extension. @default 60000 */
  leaseMs?: number;
  /** A dead chunkserver's replicas are copied elsewhere once it has been dead this long. @default 600000 */
  replaceAfterMs?: number;
  /** Most bytes per second that re-replication copies, cluster-wide. @default 104857600 (100 MiB) */
  replicationRateBytes?: number;
  /** Re-replication copies running at once. @default 2 */
  replicationConcurrency?: number;
  /** Pause between re-replication passes. @default 2000 */
  replicationIntervalMs?: number;
  /** Metadata durability: 'normal' survives master crashes, 'full' also power loss. @default 'normal' */
  sync?: 'normal' | 'full';
  /** A postgres:// URL: the namespace lives in that PostgreSQL database; `dataDir` keeps the cluster identity (tls/). */
  meta?: string;
  /**
   * Files up to this many bytes keep their data in the metadata (tree/inline-data.ts); 0: never.
   * At most INLINE_LIMIT. @default 65536
   */
  inlineMaxBytes?: number;
  /** host:port of the HTTP server for /metrics (Prometheus) and /health; undefined: none. */
  metricsListen?: string;
  /**
   * Serve plaintext, without credentials, to anyone who reaches the port (a closed test network
   * only). Otherwise every port speaks TLS and every call is checked (docs/SECURITY.md). @default false
   */
  insecure?: boolean;
  /** A backup file (`fstadmin metadata backup`) to start from; `dataDir` must hold no database. */
  restoreFrom?: string;
  /** A namespace dump (`fstadmin metadata dump`) to start from; `dataDir` must hold no database. */
  loadFrom?: string;
  /** Where metadata backups go. @default <dataDir>/backups */
  backupDir?: string;
  /** Between automatic metadata backups; 0: none. @default 3600000 (an hour) */
  backupIntervalMs?: number;
  /** Metadata backups kept in backupDir. @default 24 */
  backupKeep?: number;
  /**
   * With `meta` (several masters on one PostgreSQL database, one active): how long the active
   * master's lease runs without renewal (renewed every fifth of it). @default 5000
   */
  masterLeaseMs?: number;
  /** The address other daemons reach this master at (status, standbys' answers). @default the listen address */
  advertise?: string;
  /** Aborted while waiting as a standby: startMaster rejects. */
  startSignal?: AbortSignal;
  /** Called once the master stopped because it lost its lease (fst-master then starts it again: ha/master-runner.ts). */
  onFenced?: (why: string) => void;
  logLevel?: LogLevel;
  log?: Logger;
}

export interface Master {
  readonly address: string;
  /** host:port of /metrics and /health (the bound port when `metricsListen` asked for 0); undefined without. */
  readonly metricsAddress: string | undefined;
  readonly db: MasterDb;
  /** The admin credential the master wrote at its first start; undefined when insecure. */
  readonly adminCredentials: string | undefined;
  stop(signal?: string): Promise<void>;
  closed(): Promise<CloseReason>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startMaster(opts: MasterOptions): Promise<Master> {
  const log = opts.log ?? createLogger('fst-master', opts.logLevel);
  const lifecycle = new ServiceLifecycle('fst-master', log);
  lifecycle.transition('starting');
  const replication = opts.replication ?? 2;
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 1_000;
  const target = { dataDir: opts.dataDir, meta: opts.meta };
  if (opts.restoreFrom !== undefined) await restoreBackup(target, opts.restoreFrom, log);
  if (opts.loadFrom !== undefined) await loadDumpInto(target, opts.loadFrom, log);
  // SQLite: one master per data directory (several masters need PostgreSQL: master/ha/). After a
  // restore or load, which refuse a directory holding a database (a running master's included).
  const releaseDataDir = opts.meta === undefined ? await claimSqliteDataDir(opts.dataDir) : undefined;
  // Several masters on one PostgreSQL database: wait as a standby until this one holds the lease.
  const ha = opts.meta === undefined ? undefined : await awaitActive({
    url: opts.meta, listen: opts.listen ?? '127.0.0.1:9420', advertise: opts.advertise, dataDir: opts.dataDir, insecure: opts.insecure ?? false,
    ttlMs: opts.masterLeaseMs, log, signal: opts.startSignal ?? new AbortController().signal, metricsListen: opts.metricsListen,
  });
  let db: MasterDb;
  try {
    db = await MasterDb.open({ dataDir: opts.dataDir, defaultReplication: replication, sync: opts.sync, meta: opts.meta, log });
  } catch (e) {
    await ha?.lease.close();
    await releaseDataDir?.();
    throw e;
  }
  if (ha) guardWrites(db, ha.lease);
  const restore = await RestoreState.load(opts.dataDir);
  if (restore.active) log.warn('metadata restored from a backup and not reconciled yet: run fstadmin fsck --repair (until then, chunk versions it never issued are adopted)', { ...restore.info });
  const backups = new MetadataBackups({ db, dataDir: opts.dataDir, dir: opts.backupDir, intervalMs: opts.backupIntervalMs ?? 3_600_000, keep: opts.backupKeep ?? 24, log });
  await backups.load().catch((err: unknown) => log.warn('reading the backup directory failed', { dir: backups.dir, err }));
  const registry = new ServerRegistry(db, opts.deadAfterMs ?? 10_000, log);
  await registry.load();
  const security = opts.insecure ? undefined : await loadOrCreateClusterTls(opts.dataDir, db, log);
  if (!security) log.warn('running --insecure: every port is plaintext and anyone who reaches it may do anything');
  const ns = new Namespace(db);
  const chunks = new ChunkManager(db, registry, log, {
    gcIntervalMs: opts.gcIntervalMs ?? 5_000,
    leaseMs: opts.leaseMs ?? 60_000,
    replaceAfterMs: opts.replaceAfterMs ?? 600_000,
    rateBytesPerSec: opts.replicationRateBytes ?? 100 * 1024 * 1024,
    concurrency: opts.replicationConcurrency ?? 2,
    intervalMs: opts.replicationIntervalMs ?? 2_000,
    tls: security?.master,
  });
  const totals = (): { capacity: number; free: number } =>
    registry.alive().reduce((t, s) => ({ capacity: t.capacity + s.capacity, free: t.free + s.free }), { capacity: 0, free: 0 });

  const metrics = opts.metricsListen === undefined ? undefined : new DaemonMetrics('fst-master');
  if (metrics) {
    registerMasterMetrics(metrics.registry, {
      servers: () => registry.all().map((s) => ({ ...s, alive: registry.isAlive(s.id) })),
      counts: () => readCounters(db.reader),
      replication: () => chunks.replication.progress(),
      corruptReported: () => chunks.replication.corruptReported(),
      rebalance: () => chunks.rebalancer.progress(),
    });
  }

  const server = createRpcServer(log, security?.master, MASTER_MAX_REQUEST_BYTES);
  const credentials = security?.credentials;
  const subtrees = new SubtreeRoots(db.reader);
  const identity = async (ctx: CallContext): Promise<fst.IGetIdentityResponse> => {
    const rec = callerCredential(credentials, ctx);
    return identityOf(rec, rec ? await subtrees.rootOf(rec.path) : 1);
  };
  const inlineMax = Math.max(0, Math.min(INLINE_LIMIT, opts.inlineMaxBytes ?? INLINE_LIMIT));
  const delegations = new Delegations(undefined, undefined, !db.created);
  const locks = new LockTable();
  addService(server, MasterMethods, masterServiceHandlers(ns, chunks, totals, inlineMax, delegations, identity, security?.tokens, locks), log, metrics?.rpcServer, authorizeService('master', credentials, subtrees));
  addService(server, RegistryMethods, registryServiceHandlers(db, registry, heartbeatIntervalMs, log, chunks.replication, security?.tokens.key, () => restore.active), log, metrics?.rpcServer, authorizeService('registry', credentials));
  let boundAddress = '';
  addService(server, AdminMethods, adminServiceHandlers({
    db, registry, chunks, defaultReplication: replication, log, credentials, callsAnswered: () => server.callsAnswered, backups, restore,
    masters: ha && (() => ha.lease.masters()), address: () => opts.advertise ?? boundAddress,
  }), log, metrics?.rpcServer, authorizeService('admin', credentials));
  const listen = ha?.listen ?? opts.listen ?? '127.0.0.1:9420';
  let port: number;
  let metricsServer: MetricsServer | undefined;
  try {
    port = ha ? await bindAfterStandby(server, listen) : await bindRpcServer(server, listen);
    if (metrics && opts.metricsListen !== undefined) {
      const health = lifecycleHealth('master', () => lifecycle.state, () => ({ ok: true, details: { chunkserversAlive: registry.alive().length } }));
      metricsServer = await startMetricsServer({ listen: opts.metricsListen, metrics, health, log });
    }
  } catch (e) {
    delegations.close();
    locks.close();
    server.forceShutdown();
    registry.stop();
    await db.close();
    await ha?.lease.close();
    await releaseDataDir?.();
    throw e;
  }
  const address = `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`;
  boundAddress = address;
  if (ha) ha.lease.address = opts.advertise ?? address;
  chunks.start();
  backups.start();
  // Orphans whose client stopped renewing them (it died with the files open), and files a rename
  // replaced once their grace is over (tree/orphans.ts), are freed.
  const orphanSweep = setInterval(() => {
    ns.expireOrphans().then((n) => n > 0 && log.debug('freed orphans nobody keeps open', { count: n }), (err: unknown) => log.warn('orphan sweep failed', { err }));
  }, ORPHAN_SWEEP_MS);
  orphanSweep.unref();
  lifecycle.transition('running');
  log.info('listening', { address, dataDir: opts.dataDir, meta: db.location, replication });

  const shutdown = async (): Promise<void> => {
    clearInterval(orphanSweep);
    backups.stop();
    // Answers the mounts' waiting AwaitRecall calls, so that draining does not wait for them.
    delegations.close();
    locks.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2_000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await metricsServer?.close();
    registry.stop();
    await chunks.stop();
    await db.close();
    // Last: a standby takes over only once this master has committed its last change.
    await ha?.lease.close();
    await releaseDataDir?.();
    log.info('stopped');
  };
  const stop = (signal?: string): Promise<void> => lifecycle.stop(shutdown, signal);
  // Fenced: stop serving at once (before the database could let another master take over), then
  // drain what is left; no metadata transaction can commit any more (guardWrites).
  let fenced = false;
  const fence = (why: string, reason: string): void => {
    if (fenced) return;
    fenced = true;
    server.forceShutdown();
    // A master cut off from the database may never finish draining (its statements hang): bounded.
    const drained = stop(reason).catch(() => undefined);
    void Promise.race([drained, new Promise((r) => setTimeout(r, FENCED_DRAIN_MS))]).then(() => opts.onFenced?.(why));
  };
  ha?.lease.onLost((why) => fence(why, 'lease lost'));
  // PostgreSQL could not take a commit: it is behind the master's working copy, which must be
  // loaded again (db/pg-working-copy.ts): the same stop and start as a lost lease.
  db.engine.onFailed?.((e) => {
    log.warn('the metadata database fell behind this master; starting again from it', { err: e.message });
    fence(e.message, 'metadata database lost');
  });
  return {
    address, metricsAddress: metricsServer?.address, db, adminCredentials: security?.adminCredentialsPath, stop, closed: () => lifecycle.closed(), [Symbol.asyncDispose]: () => stop(),
  };
}
