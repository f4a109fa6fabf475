/**
 * The gateway's HTTP(S) server and its first routing step. A request that carries an AWS
 * signature is an S3 request whatever its path (so a bucket may be called `files`); any other goes
 * by path:
 *   /health                the daemon's health (its metrics are on --metrics-listen)
 *   /  /ui/...             the dashboard (/ redirects to /ui/)
 *   /api/...               the dashboard's API (sign-in, cluster status)
 *   /files/...             the plain REST API (rest/files-api.ts)
 *   anything else          S3, anonymous (s3/s3-api.ts), when anonymous access is allowed
 * Every failure becomes an answer here (never a crash): HttpError as JSON, S3Error as S3 XML,
 * anything unknown is logged and answered 500. Header limits and timeouts are node's, set so
 * that a slow or hostile client cannot hold the server: headers within 16 KiB (431 beyond) and 30 s,
 * a connection idle for 2 minutes is closed.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from '../common/log/logger.js';
import type { GatewayMetrics } from '../common/metrics/gateway-metrics.js';
import type { Authenticator } from './auth/authenticate.js';
import { handleApi, type DashboardApi } from './dashboard-api.js';
import { HttpError, toHttpError } from './http/http-error.js';
import { sendHttpError } from './http/respond.js';
import { filesPath, handleFiles } from './rest/files-api.js';
import { S3Error, s3ErrorXml } from './s3/s3-error.js';
import type { StaticFiles } from './static-files.js';

export interface GatewayRoutes {
  auth: Authenticator;
  dashboard: DashboardApi;
  ui: StaticFiles;
  /** S3 requests (authenticated inside). */
  s3: (req: IncomingMessage, res: ServerResponse, target: { rawPath: string; rawQuery: string }, requestId: string) => Promise<void>;
  /** /health. */
  health: (res: ServerResponse) => void;
  metrics: GatewayMetrics;
  log: Logger;
}

export interface ServerTls {
  cert: Buffer;
  key: Buffer;
}

const HEADER_BYTES = 16 * 1024;

function splitTarget(url: string): { rawPath: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url, rawQuery: '' } : { rawPath: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

function apiOf(rawPath: string, signed: boolean): string {
  if (signed) return 's3';
  if (rawPath === '/health') return 'ops';
  if (rawPath === '/' || rawPath === '/ui' || rawPath.startsWith('/ui/')) return 'ui';
  if (rawPath.startsWith('/api/')) return 'api';
  if (rawPath === '/files' || rawPath.startsWith('/files/')) return 'rest';
  return 's3';
}

async function route(r: GatewayRoutes, req: IncomingMessage, res: ServerResponse, api: string, target: { rawPath: string; rawQuery: string }, requestId: string): Promise<void> {
  const { rawPath, rawQuery } = target;
  switch (api) {
    case 's3':
      return r.s3(req, res, target, requestId);
    case 'ops':
      return r.health(res);
    case 'ui':
      if (rawPath === '/' || rawPath === '/ui') {
        res.writeHead(302, { location: '/ui/' });
        res.end();
        return;
      }
      return r.ui.serve(req, res, rawPath.slice('/ui/'.length));
    case 'api':
      return handleApi(r.dashboard, req, res, rawPath.slice('/api/'.length));
    default: {
      const after = rawPath.slice('/files'.length);
      const path = filesPath(after);
      const principal = await r.auth.http(req);
      return handleFiles({ req, res, path, slash: after.endsWith('/') && path !== '/', query: new URLSearchParams(rawQuery), principal });
    }
  }
}

function answerError(r: GatewayRoutes, req: IncomingMessage, res: ServerResponse, api: string, e: unknown, requestId: string): void {
  if (e instanceof S3Error || (api === 's3' && !(e instanceof HttpError))) {
    const err = e instanceof S3Error ? e : s3ErrorOf(e, r.log);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = req.method === 'HEAD' ? '' : s3ErrorXml(err, requestId);
    res.writeHead(err.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': requestId });
    res.end(body);
    return;
  }
  const err = toHttpError(e, (unknown) => r.log.error('request failed', { method: req.method, url: req.url, err: unknown }));
  if (err.status === 401 && api === 'rest' && !req.headers['x-requested-with']) err.headers['www-authenticate'] = 'Basic realm="fst-gateway", charset="UTF-8"';
  sendHttpError(res, err, req.method ?? 'GET');
}

/** An errno from the cluster as the S3 error clients know. */
function s3ErrorOf(e: unknown, log: Logger): S3Error {
  const err = toHttpError(e, (unknown) => log.error('S3 request failed', { err: unknown }));
  const code = err.code;
  if (code === 'ENOENT' || code === 'ESTALE') return new S3Error('NoSuchKey', err.message);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new S3Error('AccessDenied', err.message);
  if (code === 'ENOSPC') return new S3Error('ServiceUnavailable', `the cluster is out of space: ${err.message}`);
  if (code === 'EAGAIN' || code === 'ETIMEDOUT') return new S3Error('SlowDown', err.message);
  if (code === 'truncated') return new S3Error('IncompleteBody', err.message);
  if (err.status < 500) return new S3Error('InvalidRequest', err.message);
  return new S3Error('InternalError', err.message);
}

export function createGatewayServer(r: GatewayRoutes, tls: ServerTls | undefined): Server {
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const target = splitTarget(req.url ?? '/');
    let api = 's3';
    const socket = req.socket;
    const [readBefore, writtenBefore] = [socket.bytesRead, socket.bytesWritten];
    res.on('close', () => {
      r.metrics.record(api, req.method ?? '?', res.statusCode, started);
      r.metrics.bytesIn.inc(Math.max(0, socket.bytesRead - readBefore));
      r.metrics.bytesOut.inc(Math.max(0, socket.bytesWritten - writtenBefore));
    });
    res.on('error', (err) => r.log.debug('response failed', { err }));
    req.on('error', (err) => r.log.debug('request stream failed', { err }));
    void (async () => {
      try {
        api = apiOf(target.rawPath, r.auth.signedForS3(req, target));
        await route(r, req, res, api, target, requestId);
      } catch (e) {
        answerError(r, req, res, api, e, requestId);
      } finally {
        // A body nobody read (an error answered before it) must not hold the connection.
        if (!req.complete && !req.destroyed) req.resume();
      }
    })();
  };
  const options = { maxHeaderSize: HEADER_BYTES, requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 5_000 };
  const server = tls ? createHttpsServer({ ...options, cert: tls.cert, key: tls.key }, handler) : createHttpServer(options, handler);
  server.setTimeout(120_000, (socket) => socket.destroy());
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed requests (bad request lines, headers over the limit) get their 4xx from node's parser.
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}
