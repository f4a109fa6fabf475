/**
 * What every daemon's gRPC server records, per service and method: calls finished by outcome
 * (`fst_rpc_server_handled_total`; operations per second are its rate()) and how long they took
 * (`fst_rpc_server_handling_seconds`; for a streaming call, the life of the whole stream).
 */
import type { Metadata, ServiceError, status } from '@grpc/grpc-js';
import { Counter, Histogram, type Registry } from 'prom-client';
import { errnoOfServiceError } from '../errors/rpc-status.js';
import { LATENCY_BUCKETS, OK, OpRecorder } from './op-recorder.js';

export class RpcServerMetrics {
  private readonly handled: Counter<'service' | 'method' | 'code'>;
  private readonly seconds: Histogram<'service' | 'method'>;

  constructor(registry: Registry) {
    this.handled = new Counter({
      name: 'fst_rpc_server_handled_total',
      help: 'RPCs finished by this server, by service, method and outcome (code: OK or the errno name sent in the fst-errno trailer).',
      labelNames: ['service', 'method', 'code'],
      registers: [registry],
    });
    this.seconds = new Histogram({
      name: 'fst_rpc_server_handling_seconds',
      help: 'Time from the handler starting to the answer (for streams: the whole stream), by service and method.',
      labelNames: ['service', 'method'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** The recorder of one method, made once when its service is added to a server. */
  method(service: string, method: string): OpRecorder {
    return new OpRecorder(this.handled, this.seconds, { service, method }, 'code');
  }
}

/**
 * How one streaming call ended: OK, or the errno of the status sent. A streaming handler may end
 * its stream with an error itself (chunkserver/rpc/stream-flow.ts failServerStream) and then
 * resolve, so the first 'error' emitted on the call decides.
 */
export class StreamOutcome {
  private readonly t0 = performance.now();
  private failed: string | undefined;

  constructor(private readonly rec: OpRecorder, call: { once(ev: 'error', fn: (e: unknown) => void): unknown }) {
    // What is emitted is a status object ({code, details, metadata}); anything else counts as EIO.
    call.once('error', (e) => (this.failed ??= e && typeof e === 'object' ? errnoOfServiceError(e as ServiceError) : 'EIO'));
  }

  /** The handler resolved. */
  ok(): void {
    this.rec.record(this.t0, this.failed ?? OK);
  }

  /** The handler failed and the wrapper ends the stream with `s`. */
  fail(s: { code: status; metadata: Metadata }): void {
    this.rec.record(this.t0, this.failed ?? errnoOfServiceError(s));
  }
}
