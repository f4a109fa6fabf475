/**
 * Reads a request body that must be small (JSON, XML documents) into memory, refusing more than
 * `limit` bytes (413) and a body that ends before its Content-Length (400). `checks` are the
 * transforms the body must pass first (S3: its signed hash, aws-chunked framing, checksums).
 */
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { HttpError } from './http-error.js';
import { requestBody } from './request-body.js';

export async function readSmallBody(req: IncomingMessage, limit: number, checks: readonly Transform[] = []): Promise<Buffer> {
  // An aws-chunked body's own length is said apart from its framing's.
  const declared = Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new HttpError(413, 'too-large', `request body of ${declared} bytes is over the ${limit} bytes allowed here`);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of requestBody(req, checks)) {
    total += chunk.length;
    if (total > limit) throw new HttpError(413, 'too-large', `request body is over the ${limit} bytes allowed here`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
