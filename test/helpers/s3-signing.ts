/**
 * Test helpers for the S3 gateway's signature tests: the AWS SDK's own signer (@smithy/signature-v4)
 * wired to node:crypto, the wire form of what it signs, and an independent straightforward
 * implementation of the key derivation and chunk signing to compute expected values with.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'vitest';
import { S3Error, type S3ErrorCode } from '../../src/gateway/s3/s3-error.js';
import type { SignedRequest } from '../../src/gateway/s3/sigv4.js';

/** The hash constructor @smithy/signature-v4 wants, over node:crypto (what @smithy/hash-node does). */
export class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export const AKID = 'AKIDTEST0000000000';
export const SECRET = 'test/secret+key/0123456789abcdefABCDEF';
export const secrets = (akid: string): string | undefined => (akid === AKID ? SECRET : undefined);

/** The signer the AWS SDK uses for S3: no second escaping of the (already encoded) path. */
export function s3Signer(opts: { region?: string; secret?: string } = {}): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: AKID, secretAccessKey: opts.secret ?? SECRET },
    region: opts.region ?? 'us-east-1',
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
  });
}

/** encodeURIComponent plus the characters it leaves that AWS encodes, as the S3 client sends keys. */
export function awsEscape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A path as the S3 client puts it on the wire: each key segment escaped, '/' kept. */
export function wirePath(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(awsEscape).join('/')}`;
}

export interface SmithyRequest {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers: Record<string, string>;
}

/** The query on the wire: escaped pairs, a key with an empty value sent bare (`?uploads`) as clients do. */
export function wireQuery(query: Record<string, string | string[]> = {}): string {
  const pieces: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) pieces.push(v === '' ? awsEscape(key) : `${awsEscape(key)}=${awsEscape(v)}`);
  }
  return pieces.join('&');
}

/** What the gateway would see of a request the SDK signed: the wire path and query, lower-case headers. */
export function received(req: SmithyRequest, rawPath = req.path): SignedRequest {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  return { method: req.method, rawPath, rawQuery: wireQuery(req.query), headers };
}

/** Signs `req` (headers must include host) with header authentication at `date`. */
export async function signHeaders(req: SmithyRequest, date: Date, signer = s3Signer()): Promise<SmithyRequest> {
  const signed = await signer.sign(
    { protocol: 'http:', hostname: req.headers.host ?? 'localhost', query: {}, ...req },
    { signingDate: date },
  );
  return { method: signed.method, path: signed.path, query: signed.query as SmithyRequest['query'], headers: signed.headers };
}

/** Presigns `req` at `date` for `expiresIn` seconds. */
export async function presign(req: SmithyRequest, date: Date, expiresIn: number, signer = s3Signer()): Promise<SmithyRequest> {
  const signed = await signer.presign(
    { protocol: 'http:', hostname: req.headers.host ?? 'localhost', query: {}, ...req },
    { signingDate: date, expiresIn },
  );
  return { method: signed.method, path: signed.path, query: signed.query as SmithyRequest['query'], headers: signed.headers };
}

// --- an independent straightforward SigV4 chain, for expected values ---

export const hmacOf = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
export const sha256Of = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export function deriveKey(secret: string, date: string, region: string): Buffer {
  return hmacOf(hmacOf(hmacOf(hmacOf(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

export function chunkSig(key: Buffer, amzDate: string, scope: string, previous: string, data: Buffer): string {
  const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${sha256Of('')}\n${sha256Of(data)}`;
  return hmacOf(key, toSign).toString('hex');
}

export function trailerSig(key: Buffer, amzDate: string, scope: string, previous: string, trailerLines: string): string {
  return hmacOf(key, `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previous}\n${sha256Of(trailerLines)}`).toString('hex');
}

/** Runs `fn`, which must throw an S3Error with `code` (and a message matching `message`); returns it. */
export function s3Rejects(fn: () => unknown, code: S3ErrorCode, message?: RegExp): S3Error {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(S3Error);
  const err = caught as S3Error;
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
  return err;
}
