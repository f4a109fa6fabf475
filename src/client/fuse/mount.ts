/**
 * A mounted FST filesystem: builds the client core (core.ts: connections and the Vfs, as FstClient
 * does), connects to the master, mounts the Vfs through the native
 * FUSE binding (libfuse3's low-level API), and on stop flushes every open file before unmounting.
 * Noticing an unmount done from outside (`umount`, `fusermount3 -u`: the kernel ends the
 * connection) it stops too. With `metricsListen` it serves /metrics and /health (200 while
 * mounted) over HTTP, from before the mount until after the unmount.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import { ServiceLifecycle, type CloseReason } from '../../common/lifecycle/service.js';
import { createLogger, type Logger, type LogLevel } from '../../common/log/logger.js';
import { DaemonMetrics } from '../../common/metrics/daemon-metrics.js';
import { lifecycleHealth } from '../../common/metrics/health.js';
import { startMetricsServer, type MetricsServer } from '../../common/metrics/metrics-server.js';
import { MountMetrics } from '../../common/metrics/mount-metrics.js';
import { resolveCredentials, type CredentialsSource } from '../../common/security/credentials-file.js';
import { ClientCore } from '../core.js';
import type { Identity } from '../meta-client.js';
import type { ReadOptions } from '../read/file-reader.js';
import type { WritebackOptions } from '../writeback/file-writer.js';
import { fuseDispatch } from './adapter.js';
import { capMask, fuseBinding, type Session } from './binding.js';
import { fuseArgs, MAX_IO, MAX_READAHEAD, WANTED_CAPS } from './mount-options.js';

export interface MountOptions {
  master: string;
  mountpoint: string;
  /** How long calls wait for an unreachable master or chunkserver before failing with EIO. @default 60000 */
  masterTimeoutMs?: number;
  /** Seconds names are trusted (by the kernel and fst-mount). @default 1 */
  entryTimeoutSec?: number;
  /** Seconds the kernel trusts attributes (never longer than fst-mount does). @default 1 */
  attrTimeoutSec?: number;
  /** Answer namespace changes in directories delegated to this mount (delegated-dirs.ts). @default true */
  delegateDirs?: boolean;
  allowOther?: boolean;
  /** Microseconds to keep reading FUSE requests after a burst was answered (fst_fuse.c, on_readable); 0: none. @default 200 */
  requestPollMicros?: number;
  /** Bytes of the shared read cache. @default 256 MiB */
  cacheBytes?: number;
  read?: ReadOptions;
  writeback?: WritebackOptions;
  /** Write-back memory of all open files together. @default 512 MiB */
  writebackMemoryBytes?: number;
  /** host:port of the HTTP server for /metrics (Prometheus) and /health; undefined: none. */
  metricsListen?: string;
  /** The credential presented to the cluster, loaded or as a file's path; undefined: plaintext (`--insecure` clusters). */
  credentials?: CredentialsSource;
  logLevel?: LogLevel;
  log?: Logger;
}

export interface Mount {
  readonly mountpoint: string;
  /** host:port of /metrics and /health (the bound port when `metricsListen` asked for 0); undefined without. */
  readonly metricsAddress: string | undefined;
  stop(signal?: string): Promise<void>;
  closed(): Promise<CloseReason>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startMount(o: MountOptions): Promise<Mount> {
  const log = o.log ?? createLogger('fst-mount', o.logLevel);
  const mountpoint = resolve(o.mountpoint);
  const lifecycle = new ServiceLifecycle('fst-mount', log);
  lifecycle.transition('starting');
  const timeout = o.masterTimeoutMs ?? 60_000;
  const credentials = await resolveCredentials(o.credentials);
  const entryTimeoutSec = o.entryTimeoutSec ?? 1;
  const core = new ClientCore({
    master: o.master, session: (o.delegateDirs ?? true) ? randomUUID() : undefined, retryForMs: timeout, rpcTimeoutMs: Math.max(timeout, 30_000),
    logger: log, credentials, entryTtlMs: entryTimeoutSec * 1000, read: o.read, cacheBytes: o.cacheBytes,
    // Buffered data goes out after a second without writes even if no one closes or syncs.
    writeback: { idleFlushMs: 1000, ...o.writeback }, writebackMemoryBytes: o.writebackMemoryBytes,
  });
  let identity: Identity;
  try {
    identity = await core.connect(5_000);
  } catch (e) {
    await core.close().catch(() => undefined);
    throw e;
  }
  if (identity.readOnly) log.info('the credential is read-only: mounting read-only', { credential: identity.name });
  const vfs = core.vfs;
  const daemonMetrics = o.metricsListen === undefined ? undefined : new DaemonMetrics('fst-mount');
  const metrics = daemonMetrics && new MountMetrics(daemonMetrics.registry, {
    cache: () => vfs.cacheStats(), writebackBytes: () => vfs.writebackMemory(), openFiles: () => vfs.openHandles,
  });
  let session: Session | undefined;
  let stop: (signal?: string) => Promise<void> = () => Promise.resolve();
  const binding = fuseBinding();
  const dispatch = fuseDispatch({
    vfs, log, binding, metrics, session: () => session!, callerMap: identity.callerMap, rootIno: identity.rootIno,
    entryTimeoutSec, attrTimeoutSec: Math.min(entryTimeoutSec, o.attrTimeoutSec ?? 1), negativeTimeoutSec: entryTimeoutSec,
    onExit: () => {
      if (lifecycle.state !== 'running') return;
      log.info('unmounted from outside; stopping');
      void stop('unmount');
    },
  });
  let metricsServer: MetricsServer | undefined;
  try {
    if (daemonMetrics && o.metricsListen !== undefined) {
      const health = lifecycleHealth('mount', () => lifecycle.state, () => ({ ok: true, details: { mountpoint, master: o.master } }));
      metricsServer = await startMetricsServer({ listen: o.metricsListen, metrics: daemonMetrics, health, log });
    }
    await mkdir(mountpoint, { recursive: true });
    try {
      session = binding.mount(mountpoint, fuseArgs({ allowOther: o.allowOther ?? false, fsname: o.master, readOnly: identity.readOnly }), capMask(binding, WANTED_CAPS), MAX_IO, MAX_READAHEAD, dispatch, o.requestPollMicros ?? 200);
    } catch (e) {
      throw new FsError('EIO', `FUSE mount of ${mountpoint} failed: ${(e as Error).message}`, { cause: e });
    }
  } catch (e) {
    await metricsServer?.close();
    await core.close().catch(() => undefined);
    throw e;
  }
  const mounted = session;
  vfs.kernel = { invalidateAttr: (ino) => void binding.invalAttr(mounted, ino === identity.rootIno ? 1 : ino) };
  lifecycle.transition('running');
  log.info('mounted', { mountpoint, master: o.master });

  const shutdown = async (): Promise<void> => {
    const errors = await vfs.flushAll();
    for (const err of errors) log.error('data could not be flushed before unmount', { err });
    await core.stop().catch((err: unknown) => log.warn('giving delegated directories back failed', { err }));
    // Unmounts (lazily, if a process is still inside) and ends the connection.
    binding.close(mounted);
    await metricsServer?.close();
    await core.close().catch(() => undefined);
    log.info('unmounted', { mountpoint });
  };
  stop = (signal?: string): Promise<void> => lifecycle.stop(shutdown, signal);
  return { mountpoint, metricsAddress: metricsServer?.address, stop, closed: () => lifecycle.closed(), [Symbol.asyncDispose]: () => stop() };
}
