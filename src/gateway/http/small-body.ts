/**
 * Reads a request body that must be small (JSON, XML documents) into memory, refusing more than
 * `limit` bytes (413) and a body that ends before its Content-Length (400).
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-error.js';

export async function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new HttpError(413, 'too-large', `request body of ${declared} bytes is over the ${limit} bytes allowed here`);
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new HttpError(413, 'too-large', `request body is over the ${limit} bytes allowed here`);
    parts.push(chunk);
  }
  if (!req.complete) throw new HttpError(400, 'truncated', 'the request body ended early');
  return Buffer.concat(parts);
}
