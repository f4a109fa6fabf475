/**
 * The chunkserver daemon: a chunk store on local disks, the ChunkserverService over gRPC, and the
 * link to the master, and the scrubber; with `metricsListen`, /metrics and /health over HTTP.
 * `startChunkserver` returns once it serves; `stop()` drains in order: stop heartbeats and the
 * scrubber, stop accepting calls and give in-flight ones a grace period, cancel the rest, close the
 * metrics port, then close the chunk files.
 */
import { createLogger, type Logger } from '../common/log/logger.js';
import { ServiceLifecycle, type CloseReason, type ServiceState } from '../common/lifecycle/service.js';
import { RpcClientPool } from '../common/rpc/client.js';
import { addService, bindRpcServer, createRpcServer, type RpcServer } from '../common/rpc/server.js';
import { ChunkserverMethods } from '../common/rpc/services.js';
import { formatHostPort } from '../common/config/address.js';
import { chunkserverMetrics } from '../common/metrics/chunkserver-metrics.js';
import { DaemonMetrics } from '../common/metrics/daemon-metrics.js';
import { lifecycleHealth, type HealthReport } from '../common/metrics/health.js';
import { startMetricsServer, type MetricsServer } from '../common/metrics/metrics-server.js';
import { resolveCredentials } from '../common/security/credentials-file.js';
import { MasterLink } from './heartbeat.js';
import { IoTotals } from './io-totals.js';
import { authorizeChunkserverCall } from './rpc/authorize.js';
import { ChunkAccess, TokenKeyHolder } from './rpc/chunk-access.js';
import { loadOrCreateUuid } from './identity.js';
import { advertisedAddress, compileOptions, type ChunkserverConfig, type ChunkserverOptions } from './options.js';
import { InFlight, createHandlers } from './rpc/handlers.js';
import { ChunkStore } from './store/chunk-store.js';
import { Scrubber } from './store/scrubber.js';

export type { ChunkserverOptions } from './options.js';

/**
 * A running chunkserver serves (its disks are scanned and its port answers) whether or not its
 * master answers: readiness must not hang on the master, or every chunkserver restart during a
 * master outage would fail and loop. The link's state is in the details (and in the
 * fst_chunkserver_master_connected gauge) for monitoring.
 */
function linkHealth(link: MasterLink): HealthReport {
  return { ok: true, details: { masterLink: link.linkState } };
}

/** The largest request a chunkserver takes (data messages carry at most 1 MiB). */
const CHUNKSERVER_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export class Chunkserver implements AsyncDisposable {
  private constructor(
    /** host:port that clients and peers use (the bound port when listening on port 0). */
    readonly address: string,
    /** Identity kept in the first data directory. */
    readonly uuid: string,
    readonly config: ChunkserverConfig,
    private readonly lifecycle: ServiceLifecycle,
    private readonly parts: {
      server: RpcServer; pool: RpcClientPool; store: ChunkStore; link: MasterLink; scrubber: Scrubber; inFlight: InFlight;
      metricsServer: MetricsServer | undefined;
    },
    private readonly log: Logger,
  ) {}

  /** @internal Use startChunkserver. */
  static async start(options: ChunkserverOptions): Promise<Chunkserver> {
    const config = compileOptions(options);
    const log = options.logger ?? createLogger('chunkserver', options.logLevel);
    const lifecycle = new ServiceLifecycle('chunkserver', log);
    lifecycle.transition('starting');
    const credentials = await resolveCredentials(options.credentials);
    const tokenKey = new TokenKeyHolder();
    // Requests are WriteChunk messages of at most 1 MiB of data, and small control calls.
    const server = createRpcServer(log, credentials, CHUNKSERVER_MAX_REQUEST_BYTES);
    const pool = new RpcClientPool({ timeoutMs: 30_000, retryForMs: 0, tls: credentials && { credentials, server: 'chunkserver' } });
    const metrics = options.metricsListen === undefined ? undefined : new DaemonMetrics('fst-chunkserver');
    let store: ChunkStore | undefined;
    let metricsServer: MetricsServer | undefined;
    try {
      const opened = await ChunkStore.open({ dataDirs: config.dataDirs, reserveBytes: config.reserveBytes, log });
      store = opened;
      const uuid = await loadOrCreateUuid(config.dataDirs[0] ?? '.');
      let address = '';
      const inFlight = new InFlight();
      // Kept with or without metrics: every heartbeat reports them.
      const io = new IoTotals();
      if (metrics) {
        chunkserverMetrics(metrics.registry, {
          chunks: () => opened.index.count, usedBytes: () => opened.index.usedBytes, disks: () => opened.disks.totals(),
          load: () => inFlight.count, registered: () => link.linkState === 'connected', io,
        });
      }
      addService(server, ChunkserverMethods, createHandlers({ store, pool, log, self: () => address, io, access: credentials && new ChunkAccess(tokenKey), writeIdleMs: config.writeIdleMs }, inFlight), log, metrics?.rpcServer, credentials && authorizeChunkserverCall);
      const port = await bindRpcServer(server, formatHostPort(config.listen));
      address = advertisedAddress(config, port);
      const link = new MasterLink({
        master: config.master, uuid, address, rack: config.rack, store, load: () => inFlight.count, io, log, credentials, tokenKey,
      });
      if (metrics && options.metricsListen !== undefined) {
        const health = lifecycleHealth('chunkserver', () => lifecycle.state, () => linkHealth(link));
        metricsServer = await startMetricsServer({ listen: options.metricsListen, metrics, health, log });
      }
      link.start();
      const scrubber = new Scrubber(store, { rateBytes: config.scrubRateBytes, intervalMs: config.scrubIntervalMs }, log);
      scrubber.start();
      lifecycle.transition('running');
      log.info('listening', { address, listen: formatHostPort({ ...config.listen, port }), uuid, master: config.master });
      return new Chunkserver(address, uuid, config, lifecycle, { server, pool, store, link, scrubber, inFlight, metricsServer }, log);
    } catch (e) {
      server.forceShutdown();
      await metricsServer?.close();
      pool.close();
      await store?.close().catch(() => undefined);
      lifecycle.fail(e);
      throw e;
    }
  }

  get state(): ServiceState {
    return this.lifecycle.state;
  }

  /** host:port of /metrics and /health (the bound port when `metricsListen` asked for 0); undefined without. */
  get metricsAddress(): string | undefined {
    return this.parts.metricsServer?.address;
  }

  /** Requests being served. */
  get load(): number {
    return this.parts.inFlight.count;
  }

  /** Resolves once the daemon has stopped or failed, with why. */
  closed(): Promise<CloseReason> {
    return this.lifecycle.closed();
  }

  /** Ordered shutdown (idempotent); `signal` is recorded as the reason. */
  stop(signal?: string): Promise<void> {
    return this.lifecycle.stop(() => this.shutdown(), signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async shutdown(): Promise<void> {
    const { server, pool, store, link, scrubber, metricsServer } = this.parts;
    await Promise.all([link.stop(), scrubber.stop()]);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.log.warn('calls still running after the grace period: cancelling them', { calls: this.parts.inFlight.count });
        server.forceShutdown();
        resolve();
      }, this.config.shutdownGraceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    await metricsServer?.close();
    pool.close();
    await store.close();
  }
}

/** Starts a chunkserver; resolves once it is listening. */
export function startChunkserver(options: ChunkserverOptions): Promise<Chunkserver> {
  return Chunkserver.start(options);
}
