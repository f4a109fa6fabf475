/**
 * A running fst-gateway: a stateless HTTP server over the client core (several may serve one
 * cluster). Connects to the master with its own credential, loads the access keys, serves until
 * stopped; on stop it answers the requests in flight (new connections are refused), then flushes
 * and closes its cluster connections.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHostPort } from '../common/config/address.js';
import { FsError } from '../common/errors/errno.js';
import { ServiceLifecycle, type CloseReason } from '../common/lifecycle/service.js';
import { createLogger, type Logger, type LogLevel } from '../common/log/logger.js';
import { DaemonMetrics } from '../common/metrics/daemon-metrics.js';
import { GatewayMetrics } from '../common/metrics/gateway-metrics.js';
import { lifecycleHealth } from '../common/metrics/health.js';
import { startMetricsServer, type MetricsServer } from '../common/metrics/metrics-server.js';
import { resolveCredentials, type CredentialsSource } from '../common/security/credentials-file.js';
import { readAccessKeys, type AccessKey } from './auth/access-keys.js';
import { Authenticator, type AnonymousAccess } from './auth/authenticate.js';
import { SessionCookies } from './auth/session-cookie.js';
import { ClientPool } from './client-pool.js';
import { sendJson } from './http/respond.js';
import { S3Api } from './s3/s3-api.js';
import { createGatewayServer, type ServerTls } from './server.js';
import { StaticFiles } from './static-files.js';
import { ClusterStatusPoller } from './status/cluster-status.js';

export interface GatewayOptions {
  master: string;
  /** host:port; port 0 picks a free one. @default 127.0.0.1:9480 */
  listen?: string;
  /** The gateway's own credential (loaded or a file's path); undefined: plaintext (`--insecure` clusters). */
  credentials?: CredentialsSource;
  /** Path of the access keys file (auth/access-keys.ts), or the keys themselves. */
  keys?: string | ReadonlyMap<string, AccessKey>;
  /** What requests without a key may do. @default 'write' without keys, 'none' with */
  anonymous?: AnonymousAccess | 'auto';
  /** @default { uid: 0, gid: 0 } */
  anonymousCaller?: { uid: number; gid: number };
  /** PEM files: serve HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** @default 60000 */
  masterTimeoutMs?: number;
  /** host:port of a separate HTTP server for /metrics (Prometheus) and /health; undefined: none. */
  metricsListen?: string;
  logLevel?: LogLevel;
  log?: Logger;
}

export interface Gateway {
  /** host:port bound. */
  readonly address: string;
  /** http:// or https:// and the address. */
  readonly url: string;
  /** host:port of /metrics and /health when `metricsListen` was given. */
  readonly metricsAddress: string | undefined;
  stop(signal?: string): Promise<void>;
  closed(): Promise<CloseReason>;
  [Symbol.asyncDispose](): Promise<void>;
}

function loadTls(t: GatewayOptions['tls']): ServerTls | undefined {
  if (!t) return undefined;
  try {
    return { cert: readFileSync(t.certFile), key: readFileSync(t.keyFile) };
  } catch (e) {
    throw new FsError('ENOENT', `cannot read the TLS certificate or key: ${(e as Error).message}`);
  }
}

function listenOn(server: Server, listen: string): Promise<string> {
  const { host, port } = parseHostPort(listen, 'listen address');
  return new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host.replace(/^\[(.*)\]$/, '$1'), () => {
      server.off('error', reject);
      resolve(`${host}:${(server.address() as AddressInfo).port}`);
    });
  });
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const log = o.log ?? createLogger('fst-gateway', o.logLevel);
  const lifecycle = new ServiceLifecycle('fst-gateway', log);
  lifecycle.transition('starting');
  const credentials = await resolveCredentials(o.credentials);
  const keys = typeof o.keys === 'string' ? readAccessKeys(o.keys) : (o.keys ?? new Map<string, AccessKey>());
  // auto: a named keys file (even an empty one) means keys are wanted; only none at all is open.
  const anonymous: AnonymousAccess = !o.anonymous || o.anonymous === 'auto' ? (o.keys === undefined ? 'write' : 'none') : o.anonymous;
  const tls = loadTls(o.tls);
  const timeoutMs = o.masterTimeoutMs ?? 60_000;
  const pool = new ClientPool({ master: o.master, credentials, timeoutMs, log });
  // The gateway's own connection first: a wrong master or credential stops the start.
  await pool.get(undefined, o.anonymousCaller?.uid ?? 0, o.anonymousCaller?.gid ?? 0).catch(async (e: unknown) => {
    await pool.close();
    throw e;
  });
  const daemonMetrics = new DaemonMetrics('fst-gateway');
  const metrics = new GatewayMetrics(daemonMetrics.registry);
  const cookies = new SessionCookies(keys);
  const auth = new Authenticator({ keys, cookies, anonymous, anonymousCaller: o.anonymousCaller ?? { uid: 0, gid: 0 }, pool });
  const status = new ClusterStatusPoller({ master: o.master, credentials, gatewayRequests: () => metrics.answered });
  const s3 = new S3Api({ auth, log });
  const server = createGatewayServer({
    auth, metrics, log, ui: new StaticFiles(),
    dashboard: { auth, cookies, status, secure: tls !== undefined },
    s3: (req, res, target, requestId) => s3.handle(req, res, target, requestId),
    // Only /health on the public port, and saying nothing about the cluster (metrics have their own).
    health: (res) => {
      const up = lifecycle.state === 'running';
      sendJson(res, up ? 200 : 503, { status: up ? 'ok' : 'unavailable', daemon: 'fst-gateway', state: lifecycle.state });
    },
  }, tls);
  let address: string;
  try {
    address = await listenOn(server, o.listen ?? '127.0.0.1:9480');
  } catch (e) {
    status.close();
    await pool.close();
    throw new FsError('EIO', `cannot listen on ${o.listen}: ${(e as Error).message}`, { cause: e });
  }
  server.on('error', (err) => log.error('HTTP server error', { err }));
  let metricsServer: MetricsServer | undefined;
  if (o.metricsListen !== undefined) {
    const health = lifecycleHealth('gateway', () => lifecycle.state, () => ({ ok: true, details: { master: o.master } }));
    metricsServer = await startMetricsServer({ listen: o.metricsListen, metrics: daemonMetrics, health, log }).catch(async (e: unknown) => {
      server.close();
      status.close();
      await pool.close();
      throw e;
    });
  }
  // Every connection's staging directory (a key's credential may see another tree).
  const sweeper = setInterval(() => void pool.all().then((all) => Promise.all(all.map((a) => a.staging.sweep(log)))).catch(() => undefined), 3600_000);
  sweeper.unref();
  if (anonymous !== 'none') {
    const { host } = parseHostPort(address, 'address');
    const loopback = host === 'localhost' || host.startsWith('127.') || host === '[::1]';
    (loopback ? log.info : log.warn).call(log, `anonymous requests may ${anonymous}`, { anonymous, keys: keys.size });
  }
  lifecycle.transition('running');
  const url = `${tls ? 'https' : 'http'}://${address}`;
  log.info('listening', { address, url, master: o.master, keys: keys.size, anonymous });

  const shutdown = async (): Promise<void> => {
    clearInterval(sweeper);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Requests still running after 30 s are cut.
      setTimeout(() => server.closeAllConnections(), 30_000).unref();
    });
    status.close();
    await metricsServer?.close();
    await pool.close();
    log.info('stopped');
  };
  const stop = (signal?: string): Promise<void> => lifecycle.stop(shutdown, signal);
  return { address, url, metricsAddress: metricsServer?.address, stop, closed: () => lifecycle.closed(), [Symbol.asyncDispose]: () => stop() };
}
