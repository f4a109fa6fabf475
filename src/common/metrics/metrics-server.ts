/**
 * The daemon's HTTP port for operations: `GET /metrics` (Prometheus text format) and `GET /health`
 * (JSON; 200 while the daemon serves, 503 otherwise). HEAD works too; any other method is 405 and
 * any other path 404. Nothing here may take the daemon down: a failed scrape is a 500 and a log
 * line, and errors of the server or its connections are logged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../config/address.js';
import type { Logger } from '../log/logger.js';
import type { DaemonMetrics } from './daemon-metrics.js';
import type { HealthReport } from './health.js';

export interface MetricsServerOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  metrics: DaemonMetrics;
  health: () => HealthReport;
  log: Logger;
}

export interface MetricsServer {
  /** host:port bound (the real port when `listen` asked for 0). */
  readonly address: string;
  /** Stops listening and drops open connections (scrapers keep theirs alive). */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function healthBody(daemon: string, r: HealthReport): string {
  return JSON.stringify(r.ok
    ? { status: 'ok', daemon, ...r.details }
    : { status: 'unavailable', daemon, reason: r.reason, ...r.details });
}

async function answer(o: MetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics' && path !== '/health') return send(res, 404, 'text/plain', 'not found: try /metrics or /health\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET, HEAD' });
  if (path === '/metrics') return send(res, 200, o.metrics.contentType, await o.metrics.render());
  let report: HealthReport;
  try {
    report = o.health();
  } catch (e) {
    report = { ok: false, reason: `health check failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  send(res, report.ok ? 200 : 503, 'application/json', healthBody(o.metrics.daemon, report));
}

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseHostPort(o.listen, 'metrics listen address');
  const server = createServer((req, res) => {
    res.on('error', (err) => o.log.debug('metrics response failed', { err }));
    answer(o, req, res).catch((err: unknown) => {
      o.log.warn('metrics request failed', { path: req.url, err });
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host.replace(/^\[(.*)\]$/, '$1'), () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a server error (EMFILE...) is logged; the daemon goes on without it.
  server.on('error', (err) => o.log.error('metrics server error', { err }));
  const address = `${host}:${(server.address() as AddressInfo).port}`;
  o.log.info('metrics listening', { address });
  let closed: Promise<void> | undefined;
  return {
    address,
    close: () => (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    })),
  };
}
