/**
 * One S3 request as the operations see it: who asks, which bucket and key (path-style URLs:
 * `/<bucket>/<key>`; a bucket is a top-level directory and a key the path below it), the query, and
 * how to answer in S3's XML.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FstClient } from '../../client/fst-client.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { Principal } from '../auth/authenticate.js';
import { S3Error } from './s3-error.js';
import { xmlResponse } from './xml.js';

export interface S3Request {
  req: IncomingMessage;
  res: ServerResponse;
  principal: Principal;
  /** '' for the service (ListBuckets). */
  bucket: string;
  /** '' for bucket operations; may end with '/' (a directory marker). */
  key: string;
  query: URLSearchParams;
  requestId: string;
  log: Logger;
}

export function client(r: S3Request): FstClient {
  return r.principal.access.client;
}

/** The FST path of the request's object (or of the bucket when `key` is ''). */
export function objectPath(r: S3Request, key = r.key): string {
  const k = key.endsWith('/') ? key.slice(0, -1) : key;
  return k === '' ? `/${r.bucket}` : `/${r.bucket}/${k}`;
}

export function sendXml(r: S3Request, status: number, root: string, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
  const text = xmlResponse(root, body);
  r.res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(text), 'x-amz-request-id': r.requestId, ...headers });
  r.res.end(text);
}

export function sendEmpty(r: S3Request, status: number, headers: Record<string, string | number> = {}): void {
  r.res.writeHead(status, { 'x-amz-request-id': r.requestId, ...headers });
  r.res.end();
}

/** Refuses a change by a read-only principal. */
export function mustWrite(r: S3Request): void {
  if (r.principal.readOnly) throw new S3Error('AccessDenied', 'this access key is read-only');
}

/** Throws NoSuchBucket unless the bucket is a directory. */
export async function checkBucket(r: S3Request): Promise<void> {
  const st = await client(r).stat(`/${r.bucket}`).catch((e: unknown) => {
    if (toFsError(e).code === 'ENOENT') return undefined;
    throw e;
  });
  if (st?.kind !== 'directory') throw new S3Error('NoSuchBucket', `bucket '${r.bucket}' does not exist`, { resource: `/${r.bucket}` });
}

/** An ENOENT as NoSuchBucket or NoSuchKey, whichever is true. */
export async function notFound(r: S3Request, e: unknown): Promise<never> {
  if (toFsError(e).code !== 'ENOENT' && toFsError(e).code !== 'ENOTDIR') throw e;
  await checkBucket(r);
  throw new S3Error('NoSuchKey', `no key '${r.key}'`, { resource: `/${r.bucket}/${r.key}` });
}

/** `x-amz-meta-*` headers of a request, names without the prefix. */
export function userMetaOf(req: IncomingMessage): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) meta[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
  }
  return meta;
}
