/**
 * One daemon's metrics: its own prom-client Registry (never the global one, since tests run
 * several daemons in one process and each must report only its own calls), its RPC server
 * instruments, and the text of a scrape (this registry plus the shared process metrics).
 */
import { Gauge, Registry } from 'prom-client';
import { processRegistry } from './process-metrics.js';
import { RpcServerMetrics } from './rpc-server-metrics.js';

export type DaemonName = 'fst-master' | 'fst-chunkserver' | 'fst-mount' | 'fst-gateway';

export class DaemonMetrics {
  readonly registry = new Registry();
  private rpc: RpcServerMetrics | undefined;

  constructor(readonly daemon: DaemonName) {
    const info = new Gauge({
      name: 'fst_daemon_info',
      help: 'Always 1; the daemon label says which FST daemon serves this endpoint.',
      labelNames: ['daemon'],
      registers: [this.registry],
    });
    info.labels(daemon).set(1);
    // Start the process collectors now, so the first scrape already covers the daemon's life.
    processRegistry();
  }

  /** Instruments for common/rpc/server.ts addService, registered by the first daemon part that asks. */
  get rpcServer(): RpcServerMetrics {
    this.rpc ??= new RpcServerMetrics(this.registry);
    return this.rpc;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of this daemon and its process. */
  render(): Promise<string> {
    // A merged view per scrape: neither registry owns the other's metrics.
    return Registry.merge([processRegistry(), this.registry]).metrics();
  }
}
