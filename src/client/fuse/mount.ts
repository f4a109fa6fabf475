/**
 * A mounted FST filesystem: connects to the master, builds the Vfs, mounts it with fuse-native, and
 * on stop flushes every open file before unmounting. Noticing an unmount done from outside
 * (`umount`, `fusermount -u`) it stops too. With `metricsListen` it serves /metrics and /health
 * (200 while mounted) over HTTP, from before the mount until after the unmount.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import Fuse from 'fuse-native';
import { ServiceLifecycle, type CloseReason } from '../../common/lifecycle/service.js';
import { createLogger, type Logger, type LogLevel } from '../../common/log/logger.js';
import { DaemonMetrics } from '../../common/metrics/daemon-metrics.js';
import { lifecycleHealth } from '../../common/metrics/health.js';
import { startMetricsServer, type MetricsServer } from '../../common/metrics/metrics-server.js';
import { MountMetrics } from '../../common/metrics/mount-metrics.js';
import { FstClient } from '../fst-client.js';
import type { ReadOptions } from '../read/file-reader.js';
import type { WritebackOptions } from '../writeback/file-writer.js';
import { Vfs } from '../vfs/vfs.js';
import { fuseOperations } from './adapter.js';
import { fuseMountOptions } from './mount-options.js';

export interface MountOptions {
  master: string;
  mountpoint: string;
  /** How long calls wait for an unreachable master or chunkserver before failing with EIO. @default 60000 */
  masterTimeoutMs?: number;
  entryTimeoutSec?: number;
  attrTimeoutSec?: number;
  allowOther?: boolean;
  /** Bytes of the shared read cache. @default 256 MiB */
  cacheBytes?: number;
  read?: ReadOptions;
  writeback?: WritebackOptions;
  /** Write-back memory of all open files together. @default 512 MiB */
  writebackMemoryBytes?: number;
  /** host:port of the HTTP server for /metrics (Prometheus) and /health; undefined: none. */
  metricsListen?: string;
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

const run = promisify(execFile);

async function isMounted(mountpoint: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[1] === mountpoint.replace(/ /g, '\\040'));
}

export async function startMount(o: MountOptions): Promise<Mount> {
  const log = o.log ?? createLogger('fst-mount', o.logLevel);
  const mountpoint = resolve(o.mountpoint);
  const lifecycle = new ServiceLifecycle('fst-mount', log);
  lifecycle.transition('starting');
  const timeout = o.masterTimeoutMs ?? 60_000;
  const client = new FstClient({ master: o.master, retryForMs: timeout, rpcTimeoutMs: Math.max(timeout, 30_000), logger: log, connectTimeoutMs: 5_000 });
  try {
    await client.connect();
  } catch (e) {
    await client.close().catch(() => undefined);
    throw e;
  }
  const vfs = new Vfs({ meta: client.meta, chunks: client.chunks, log, read: o.read, cacheBytes: o.cacheBytes,
    // Buffered data goes out after a second without writes even if no one closes or syncs.
    writeback: { idleFlushMs: 1000, ...o.writeback }, writebackMemoryBytes: o.writebackMemoryBytes, entryTtlMs: (o.entryTimeoutSec ?? 1) * 1000 });
  const daemonMetrics = o.metricsListen === undefined ? undefined : new DaemonMetrics('fst-mount');
  const metrics = daemonMetrics && new MountMetrics(daemonMetrics.registry, {
    cache: () => vfs.cacheStats(), writebackBytes: () => vfs.writebackMemory(), openFiles: () => vfs.openHandles,
  });
  // The caller of each request, read synchronously at the start of its handler (patched binding).
  let fuse: Fuse | undefined = undefined;
  const ops = fuseOperations({ vfs, log, context: () => fuse!.context(), metrics });
  fuse = new Fuse(mountpoint, ops, fuseMountOptions({ entryTimeoutSec: o.entryTimeoutSec ?? 1, attrTimeoutSec: o.attrTimeoutSec ?? 0, allowOther: o.allowOther ?? false }) as never);
  const mounted = fuse;
  let metricsServer: MetricsServer | undefined;
  try {
    if (daemonMetrics && o.metricsListen !== undefined) {
      const health = lifecycleHealth('mount', () => lifecycle.state, () => ({ ok: true, details: { mountpoint, master: o.master } }));
      metricsServer = await startMetricsServer({ listen: o.metricsListen, metrics: daemonMetrics, health, log });
    }
    await new Promise<void>((res, rej) => mounted.mount((err) => (err ? rej(err) : res())));
  } catch (e) {
    await metricsServer?.close();
    await client.close().catch(() => undefined);
    throw e;
  }
  lifecycle.transition('running');
  log.info('mounted', { mountpoint, master: o.master });

  const shutdown = async (): Promise<void> => {
    clearInterval(watch);
    const errors = await vfs.flushAll();
    for (const err of errors) log.error('data could not be flushed before unmount', { err });
    await new Promise<void>((res) => mounted.unmount((err) => {
      if (err) log.warn('unmount failed; detaching lazily', { err });
      res();
    }));
    if (await isMounted(mountpoint)) await run('fusermount', ['-u', '-z', mountpoint]).catch(() => undefined);
    await metricsServer?.close();
    await client.close().catch(() => undefined);
    log.info('unmounted', { mountpoint });
  };
  const stop = (signal?: string): Promise<void> => lifecycle.stop(shutdown, signal);
  // Someone ran umount / fusermount -u: nothing more will arrive, so stop.
  const watch = setInterval(() => {
    isMounted(mountpoint).then((m) => {
      if (!m && lifecycle.state === 'running') {
        log.info('unmounted from outside; stopping');
        void stop('unmount');
      }
    }, () => undefined);
  }, 1000);
  watch.unref();
  return { mountpoint, metricsAddress: metricsServer?.address, stop, closed: () => lifecycle.closed(), [Symbol.asyncDispose]: () => stop() };
}
