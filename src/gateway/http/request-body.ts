/**
 * A request body as an async iterable of Buffers, optionally through checks (transforms that fail
 * before the end when the body is not what was promised). It fails, rather than ends, when the
 * client goes away before the end: an upload that breaks off is never committed.
 */
import type { IncomingMessage } from 'node:http';
import { pipeline, type Transform } from 'node:stream';
import { HttpError } from './http-error.js';

export async function* requestBody(req: IncomingMessage, checks: readonly Transform[] = []): AsyncGenerator<Buffer> {
  let source: AsyncIterable<Buffer> = req;
  if (checks.length > 0) {
    // pipeline destroys every stage when one fails (a client that disconnects, a bad checksum).
    pipeline([req, ...checks], () => undefined);
    source = checks[checks.length - 1]!;
  }
  for await (const chunk of source) yield chunk;
  if (!req.complete) throw new HttpError(400, 'truncated', 'the request body ended early');
}
