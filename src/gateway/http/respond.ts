/** Writing answers: JSON bodies, and errors as `{ "error": message, "code": code }`. */
import type { ServerResponse } from 'node:http';
import type { HttpError } from './http-error.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendHttpError(res: ServerResponse, err: HttpError, method: string): void {
  if (res.headersSent) {
    // Too late for a status: cut the body short so the client sees a failed transfer.
    res.destroy();
    return;
  }
  if (method === 'HEAD') {
    res.writeHead(err.status, { 'cache-control': 'no-store', ...err.headers });
    res.end();
    return;
  }
  sendJson(res, err.status, { error: err.message, code: err.code }, err.headers);
}
