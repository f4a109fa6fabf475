/**
 * fst-gateway's metrics: requests by API (rest, s3, ui, api, ops) and outcome, their durations,
 * and the bytes received and sent (counted from the connection's own totals when each answer ends).
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export class GatewayMetrics {
  private readonly requests: Counter<'api' | 'method' | 'status'>;
  private readonly seconds: Histogram<'api'>;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  /** Requests answered since start (the dashboard's rate), kept apart from the labelled counter. */
  answered = 0;

  constructor(registry: Registry) {
    this.requests = new Counter({ name: 'fst_gateway_requests_total', help: 'HTTP requests answered, by API, method and status code.', labelNames: ['api', 'method', 'status'], registers: [registry] });
    this.seconds = new Histogram({
      name: 'fst_gateway_request_seconds', help: 'Time from a request\'s arrival to the end of its answer, by API.', labelNames: ['api'], registers: [registry],
      buckets: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100],
    });
    this.bytesIn = new Counter({ name: 'fst_gateway_received_bytes_total', help: 'Bytes received from HTTP clients (requests with their headers).', registers: [registry] });
    this.bytesOut = new Counter({ name: 'fst_gateway_sent_bytes_total', help: 'Bytes sent to HTTP clients (answers with their headers).', registers: [registry] });
  }

  record(api: string, method: string, status: number, startedMs: number): void {
    this.answered++;
    this.requests.inc({ api, method, status: String(status) });
    this.seconds.observe({ api }, (performance.now() - startedMs) / 1000);
  }
}
