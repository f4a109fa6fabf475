/**
 * Requests made by @aws-sdk/client-s3 itself, captured before they leave (no network): what the
 * gateway's protocol modules must accept from the most common client, signatures, bodies and XML.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand,
  S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { bodyChecks } from '../../src/gateway/s3/body-check.js';
import { S3Error } from '../../src/gateway/s3/s3-error.js';
import { verifySigV4, type SignedRequest } from '../../src/gateway/s3/sigv4.js';
import { parseCompleteMultipartUpload, parseDeleteObjects } from '../../src/gateway/s3/xml.js';
import { AKID, awsEscape, SECRET, secrets } from '../helpers/s3-signing.js';

interface Captured {
  method: string;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/** What the capturing handler answers instead of a response. */
class NotSent extends Error {}

/** A client whose requests are recorded instead of sent. */
function capturingClient(): { client: S3Client; sent: Captured[] } {
  const sent: Captured[] = [];
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://gw.example:9000',
    forcePathStyle: true,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    maxAttempts: 1,
    logger: { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    requestHandler: {
      handle: (req: Captured) => {
        sent.push(req);
        return Promise.reject(new NotSent('captured, not sent'));
      },
    },
  });
  return { client, sent };
}

async function capture(send: (client: S3Client) => Promise<unknown>): Promise<Captured> {
  const { client, sent } = capturingClient();
  await expect(send(client)).rejects.toThrow();
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

/** The query as the SDK's HTTP handler writes it (@smithy/querystring-builder). */
function sdkQuery(query: Captured['query']): string {
  const pieces: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (Array.isArray(value)) for (const v of value) pieces.push(`${awsEscape(key)}=${awsEscape(v)}`);
    else pieces.push(value === null || value === undefined ? awsEscape(key) : `${awsEscape(key)}=${awsEscape(value)}`);
  }
  return pieces.join('&');
}

function asReceived(req: Captured): SignedRequest {
  return { method: req.method, rawPath: req.path, rawQuery: sdkQuery(req.query), headers: req.headers as IncomingHttpHeaders };
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const c of body as Readable) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Passes `wire` through the checks the headers call for; the decoded body, or the S3Error. */
async function checked(req: Captured, wire: Buffer): Promise<Buffer | S3Error> {
  const verified = verifySigV4(asReceived(req), secrets, new Date());
  const checks = bodyChecks(req.headers as IncomingHttpHeaders, verified);
  const out: Buffer[] = [];
  try {
    let stream: NodeJS.ReadableStream = Readable.from([wire]);
    for (const t of checks) stream = stream.pipe(t);
    await new Promise<void>((resolve, reject) => {
      for (const t of checks) t.on('error', reject);
      stream.on('data', (b: Buffer) => out.push(b));
      stream.on('end', resolve);
    });
  } catch (err) {
    return err as S3Error;
  }
  return Buffer.concat(out);
}

const KEYS = ['plain.txt', 'dir/with space/(1)+[2]=&.txt', 'ünïcødé/日本語 ключ', "quote's ~tilde* !bang", 'a//b/./c/../d'];

describe('@aws-sdk/client-s3 requests', () => {
  it.each(KEYS)('PutObject %j: signature, x-amz-content-sha256 and x-amz-checksum-crc32 verify', async (key) => {
    const body = `contents of ${key}`;
    const req = await capture((c) => c.send(new PutObjectCommand({ Bucket: 'bucket', Key: key, Body: body })));
    expect(verifySigV4(asReceived(req), secrets, new Date())?.accessKeyId).toBe(AKID);
    const decoded = await checked(req, Buffer.from(body));
    expect(Buffer.isBuffer(decoded) && decoded.toString()).toBe(body);
    const tampered = await checked(req, Buffer.from(`${body}!`));
    expect(tampered).toBeInstanceOf(S3Error);
    expect((tampered as S3Error).code).toBe('XAmzContentSHA256Mismatch');
  });

  it('ListObjectsV2 with a prefix, delimiter and start-after full of reserved characters', async () => {
    const req = await capture((c) => c.send(new ListObjectsV2Command({
      Bucket: 'bucket', Prefix: 'a b+(c)=&d/ü', Delimiter: '/', StartAfter: 'x=1&y=2', MaxKeys: 5,
    })));
    expect(verifySigV4(asReceived(req), secrets, new Date())).toBeDefined();
  });

  it('PutObject from a stream of unknown checksum: aws-chunked with a crc32 trailer', async () => {
    const data = Buffer.from('streamed body '.repeat(5000));
    const req = await capture((c) => c.send(new PutObjectCommand({
      Bucket: 'bucket', Key: 'streamed', ContentLength: data.length,
      Body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
    })));
    expect(req.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    const wire = await bodyBytes(req.body);
    const decoded = await checked(req, wire);
    expect(Buffer.isBuffer(decoded) && decoded.equals(data)).toBe(true);
    const badTrailer = Buffer.from(wire.toString('latin1').replace(/x-amz-checksum-crc32:[^\r]+/, 'x-amz-checksum-crc32:AAAAAA=='), 'latin1');
    expect(((await checked(req, badTrailer)) as S3Error).code).toBe('BadDigest');
  });

  it('DeleteObjects: its XML body parses back to the keys the client named', async () => {
    const keys = ['a&b<c>', 'quote"s\'', ' spaced ', 'tab\tkey', 'cr\r\nlf', '日本', ...KEYS];
    const req = await capture((c) => c.send(new DeleteObjectsCommand({
      Bucket: 'bucket', Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
    })));
    const body = await bodyBytes(req.body);
    expect(verifySigV4(asReceived(req), secrets, new Date())).toBeDefined();
    expect(Buffer.isBuffer(await checked(req, body))).toBe(true);
    expect(parseDeleteObjects(body.toString('utf8'))).toEqual({ keys, quiet: true });
  });

  it('UploadPart and CompleteMultipartUpload: query parameters sign, parts parse', async () => {
    const part = await capture((c) => c.send(new UploadPartCommand({
      Bucket: 'bucket', Key: 'big', UploadId: 'upload/id+=', PartNumber: 2, Body: 'part two',
    })));
    expect(verifySigV4(asReceived(part), secrets, new Date())).toBeDefined();
    const req = await capture((c) => c.send(new CompleteMultipartUploadCommand({
      Bucket: 'bucket', Key: 'big', UploadId: 'upload/id+=',
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"etag-one"' }, { PartNumber: 2, ETag: '"etag&two"' }] },
    })));
    expect(verifySigV4(asReceived(req), secrets, new Date())).toBeDefined();
    expect(parseCompleteMultipartUpload((await bodyBytes(req.body)).toString('utf8'))).toEqual([
      { partNumber: 1, etag: 'etag-one' },
      { partNumber: 2, etag: 'etag&two' },
    ]);
  });

  it('getSignedUrl: a presigned GET verifies as long as it is valid', async () => {
    const { client } = capturingClient();
    const url = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: KEYS[1] }), { expiresIn: 300 }));
    const req: SignedRequest = {
      method: 'GET', rawPath: url.pathname, rawQuery: url.search.slice(1), headers: { host: url.host },
    };
    expect(verifySigV4(req, secrets, new Date())).toMatchObject({ presigned: true, payloadHash: 'UNSIGNED-PAYLOAD' });
    expect(() => verifySigV4(req, secrets, new Date(Date.now() + 301_000))).toThrow('Request has expired');
    expect(() => verifySigV4({ ...req, method: 'PUT' }, secrets, new Date())).toThrow(S3Error);
  });
});
