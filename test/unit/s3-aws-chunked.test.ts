/**
 * The aws-chunked decoder: AWS's documented signed example, input split at every byte and at
 * random, the unsigned and signed trailer forms, and each failure surfacing before the stream ends.
 */
import type { Transform } from 'node:stream';
import { crc32, crc32c } from '@node-rs/crc32';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder, type AwsChunkedOptions } from '../../src/gateway/s3/aws-chunked.js';
import { S3Error, type S3ErrorCode } from '../../src/gateway/s3/s3-error.js';
import { verifySigV4, type VerifiedSignature } from '../../src/gateway/s3/sigv4.js';
import { chunkSig, deriveKey, trailerSig } from '../helpers/s3-signing.js';

interface Outcome {
  data: Buffer;
  pieces: Buffer[];
  ended: boolean;
  error?: S3Error;
}

/** Feeds `pieces` to `decoder` and collects what comes out, how it ended, and whether 'end' came. */
function run(decoder: Transform, pieces: Buffer[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let ended = false;
    decoder.on('data', (b: Buffer) => out.push(b));
    decoder.on('end', () => {
      ended = true;
      resolve({ data: Buffer.concat(out), pieces: out, ended });
    });
    decoder.on('error', (error) => resolve({ data: Buffer.concat(out), pieces: out, ended, error: error as S3Error }));
    // One write per piece: each reaches the decoder as its own _transform call.
    for (const piece of pieces) decoder.write(piece);
    decoder.end();
  });
}

function expectFailure(outcome: Outcome, code: S3ErrorCode): void {
  expect(outcome.error).toBeInstanceOf(S3Error);
  expect(outcome.error?.code).toBe(code);
  expect(outcome.ended).toBe(false);
}

/** A deterministic generator (mulberry32), so a failing split can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytewise = (body: Buffer): Buffer[] => Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));

function randomSplits(body: Buffer, seed: number): Buffer[] {
  const next = random(seed);
  const pieces: Buffer[] = [];
  for (let at = 0; at < body.length;) {
    const len = 1 + Math.floor(next() * (next() < 0.5 ? 8 : 3000));
    pieces.push(body.subarray(at, at + len));
    at += len;
  }
  return pieces;
}

// --- AWS's example: PUT /examplebucket/chunkObject.txt, 66560 bytes of 'a' in chunks of 65536 and 1024 ---

const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const CHUNK_SIGS = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];

function awsExampleVerified(): VerifiedSignature {
  const v = verifySigV4({
    method: 'PUT',
    rawPath: '/examplebucket/chunkObject.txt',
    rawQuery: '',
    headers: {
      host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=${SEED}`,
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'content-length': '66824',
    },
  }, (k) => (k === 'AKIAIOSFODNN7EXAMPLE' ? AWS_SECRET : undefined), new Date('2013-05-24T00:00:00Z'));
  if (!v) throw new Error('the example request carries authentication');
  return v;
}

function awsExampleBody(): Buffer {
  const parts = [
    `10000;chunk-signature=${CHUNK_SIGS[0]}\r\n`, 'a'.repeat(65536), '\r\n',
    `400;chunk-signature=${CHUNK_SIGS[1]}\r\n`, 'a'.repeat(1024), '\r\n',
    `0;chunk-signature=${CHUNK_SIGS[2]}\r\n`, '\r\n',
  ];
  return Buffer.from(parts.join(''), 'latin1');
}

const awsExampleDecoder = (): AwsChunkedDecoder => new AwsChunkedDecoder({
  payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', verified: awsExampleVerified(), decodedLength: 66560,
});

describe('AWS documented example of STREAMING-AWS4-HMAC-SHA256-PAYLOAD', () => {
  it('verifies the seed signature of the request, and the body is 66824 bytes as its Content-Length says', () => {
    expect(awsExampleVerified().signature).toBe(SEED);
    expect(awsExampleBody().length).toBe(66824);
  });

  it('decodes the body in one piece, passing the data through without copying it', async () => {
    const body = awsExampleBody();
    const out = await run(awsExampleDecoder(), [body]);
    expect(out.error).toBeUndefined();
    expect(out.data.equals(Buffer.alloc(66560, 'a'))).toBe(true);
    for (const piece of out.pieces) expect(piece.buffer).toBe(body.buffer);
  });

  it('decodes the body fed one byte at a time', async () => {
    const out = await run(awsExampleDecoder(), bytewise(awsExampleBody()));
    expect(out.error).toBeUndefined();
    expect(out.data.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('decodes the body split at random (seed %i)', async (seed) => {
    const out = await run(awsExampleDecoder(), randomSplits(awsExampleBody(), seed));
    expect(out.error).toBeUndefined();
    expect(out.data.length).toBe(66560);
  });

  it('fails a tampered chunk with SignatureDoesNotMatch before the end', async () => {
    const body = awsExampleBody();
    body[88 + 65536 + 2 + 86 + 10] = 'b'.charCodeAt(0); // a byte inside the second chunk's data
    expectFailure(await run(awsExampleDecoder(), [body]), 'SignatureDoesNotMatch');
    const swapped = Buffer.from(awsExampleBody().toString('latin1').replace(CHUNK_SIGS[1]!, CHUNK_SIGS[0]!), 'latin1');
    expectFailure(await run(awsExampleDecoder(), randomSplits(swapped, 9)), 'SignatureDoesNotMatch');
  });

  it('fails a body cut short with IncompleteBody, wherever it is cut', async () => {
    const body = awsExampleBody();
    for (const at of [0, 50, 88, 40000, 65624, 65626, 65700, 66700, 66740]) {
      expectFailure(await run(awsExampleDecoder(), [body.subarray(0, at)]), 'IncompleteBody');
    }
  });

  it('fails when the decoded length is not x-amz-decoded-content-length', async () => {
    for (const decodedLength of [66559, 66561]) {
      const decoder = new AwsChunkedDecoder({ payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', verified: awsExampleVerified(), decodedLength });
      expectFailure(await run(decoder, [awsExampleBody()]), 'IncompleteBody');
    }
  });
});

// --- bodies built here, with an independent signer for the signed forms ---

const crc32b64 = (data: Buffer): string => { const b = Buffer.alloc(4); b.writeUInt32BE(crc32(data)); return b.toString('base64'); };
const crc32cb64 = (data: Buffer): string => { const b = Buffer.alloc(4); b.writeUInt32BE(crc32c(data)); return b.toString('base64'); };

function payload(size: number): Buffer {
  const next = random(size);
  return Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256)));
}

/** An unsigned-with-trailer body as the AWS SDK for JavaScript writes it. */
function unsignedTrailerBody(data: Buffer, chunk: number, trailers: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunk) {
    const piece = data.subarray(at, at + chunk);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers.map(([n, v]) => `${n}:${v}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

const scope = '20261206/us-east-1/s3/aws4_request';
const amzDate = '20261206T100000Z';
const key = deriveKey('chunk-secret', '20261206', 'us-east-1');
const seed = 'c0ffee'.padEnd(64, '0');
const verified: VerifiedSignature = { accessKeyId: 'AK', payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', signingKey: key, signature: seed, scope, amzDate, presigned: false };

/** A signed body with a trailer and its signature, per AWS's description of the -TRAILER form. */
function signedTrailerBody(
  data: Buffer,
  chunk: number,
  trailers: [string, string][],
  sign = (lines: string, previous: string) => trailerSig(key, amzDate, scope, previous, lines),
): Buffer {
  const parts: Buffer[] = [];
  let previous = seed;
  for (let at = 0; at < data.length; at += chunk) {
    const piece = data.subarray(at, at + chunk);
    previous = chunkSig(key, amzDate, scope, previous, piece);
    parts.push(Buffer.from(`${piece.length.toString(16)};chunk-signature=${previous}\r\n`), piece, Buffer.from('\r\n'));
  }
  previous = chunkSig(key, amzDate, scope, previous, Buffer.alloc(0));
  parts.push(Buffer.from(`0;chunk-signature=${previous}\r\n`));
  parts.push(Buffer.from(trailers.map(([n, v]) => `${n}:${v}\r\n`).join('')));
  const lines = trailers.map(([n, v]) => `${n}:${v}\n`).join('');
  parts.push(Buffer.from(`x-amz-trailer-signature:${sign(lines, previous)}\r\n\r\n`));
  return Buffer.concat(parts);
}

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER', () => {
  const data = payload(100_000);
  const options = (names = ['x-amz-checksum-crc32']): AwsChunkedOptions =>
    ({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', decodedLength: data.length, trailerNames: names });

  it('decodes and checks a correct x-amz-checksum-crc32, split anyhow, and exposes the trailers', async () => {
    const body = unsignedTrailerBody(data, 8192, [['x-amz-checksum-crc32', crc32b64(data)]]);
    for (const pieces of [[body], bytewise(body), randomSplits(body, 11), randomSplits(body, 12)]) {
      const decoder = new AwsChunkedDecoder(options());
      const out = await run(decoder, pieces);
      expect(out.error).toBeUndefined();
      expect(out.data.equals(data)).toBe(true);
      expect(decoder.trailers).toEqual({ 'x-amz-checksum-crc32': crc32b64(data) });
    }
  });

  it('fails a wrong x-amz-checksum-crc32 with BadDigest before the end', async () => {
    const wrong = crc32b64(Buffer.from('something else'));
    const body = unsignedTrailerBody(data, 8192, [['x-amz-checksum-crc32', wrong]]);
    expectFailure(await run(new AwsChunkedDecoder(options()), randomSplits(body, 13)), 'BadDigest');
    const flipped = unsignedTrailerBody(Buffer.concat([data.subarray(1), Buffer.from([data[0]! ^ 1])]), 8192, [['x-amz-checksum-crc32', crc32b64(data)]]);
    expectFailure(await run(new AwsChunkedDecoder(options()), [flipped]), 'BadDigest');
  });

  it.each([
    ['x-amz-checksum-crc32c', crc32cb64],
    ['x-amz-checksum-sha1', (d: Buffer) => createHash('sha1').update(d).digest('base64')],
    ['x-amz-checksum-sha256', (d: Buffer) => createHash('sha256').update(d).digest('base64')],
  ])('checks %s', async (name, sum) => {
    const good = unsignedTrailerBody(data, 30_000, [[name, sum(data)]]);
    expect((await run(new AwsChunkedDecoder(options([name])), [good])).error).toBeUndefined();
    const bad = unsignedTrailerBody(data, 30_000, [[name, sum(data.subarray(1))]]);
    expectFailure(await run(new AwsChunkedDecoder(options([name])), [bad]), 'BadDigest');
  });

  it('computes every checksum when x-amz-trailer is absent', async () => {
    const body = unsignedTrailerBody(data, 8192, [['x-amz-checksum-crc32c', crc32cb64(data)]]);
    expect((await run(new AwsChunkedDecoder({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), [body])).error).toBeUndefined();
    const bad = unsignedTrailerBody(data, 8192, [['x-amz-checksum-crc32c', crc32b64(data)]]);
    expectFailure(await run(new AwsChunkedDecoder({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), [bad]), 'BadDigest');
  });

  it('fails a missing declared trailer, an undeclared one and a malformed value', async () => {
    const none = unsignedTrailerBody(data, 8192, []);
    expectFailure(await run(new AwsChunkedDecoder(options()), [none]), 'IncompleteBody');
    const other = unsignedTrailerBody(data, 8192, [['x-amz-checksum-crc32c', crc32cb64(data)]]);
    expectFailure(await run(new AwsChunkedDecoder(options()), [other]), 'InvalidRequest');
    const garbled = unsignedTrailerBody(data, 8192, [['x-amz-checksum-crc32', 'not base64!']]);
    expectFailure(await run(new AwsChunkedDecoder(options()), [garbled]), 'InvalidRequest');
  });

  it('bounds a chunk header line', async () => {
    const long = Buffer.from(`1${';x=y'.repeat(2000)}\r\na\r\n0\r\n\r\n`);
    expectFailure(await run(new AwsChunkedDecoder({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), bytewise(long)), 'InvalidRequest');
    const ok = Buffer.from(`1${';x=y'.repeat(100)}\r\na\r\n0\r\n\r\n`);
    expect((await run(new AwsChunkedDecoder({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), [ok])).data.toString()).toBe('a');
  });

  it('fails a chunk longer than its declared size, and data after the final chunk', async () => {
    const long = Buffer.from('3\r\nabcd\r\n0\r\n\r\n');
    expectFailure(await run(new AwsChunkedDecoder({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), [long]), 'IncompleteBody');
    const extra = Buffer.from('3\r\nabc\r\n0\r\n\r\nmore');
    expectFailure(await run(new AwsChunkedDecoder({ payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }), [extra]), 'InvalidRequest');
  });
});

describe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', () => {
  const data = payload(70_000);
  const options = (): AwsChunkedOptions => ({
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', verified, decodedLength: data.length, trailerNames: ['x-amz-checksum-crc32c'],
  });

  it('verifies chunk and trailer signatures and the checksum, split anyhow', async () => {
    const body = signedTrailerBody(data, 65536, [['x-amz-checksum-crc32c', crc32cb64(data)]]);
    for (const pieces of [[body], bytewise(body), randomSplits(body, 21)]) {
      const decoder = new AwsChunkedDecoder(options());
      const out = await run(decoder, pieces);
      expect(out.error).toBeUndefined();
      expect(out.data.equals(data)).toBe(true);
      expect(decoder.trailers['x-amz-checksum-crc32c']).toBe(crc32cb64(data));
    }
  });

  it('fails a trailer signature that does not sign the trailer sent', async () => {
    const forged = signedTrailerBody(data, 65536, [['x-amz-checksum-crc32c', crc32cb64(data)]],
      (_lines, prev) => trailerSig(key, amzDate, scope, prev, 'x-amz-checksum-crc32c:AAAAAA==\n'));
    expectFailure(await run(new AwsChunkedDecoder(options()), [forged]), 'SignatureDoesNotMatch');
    const unsignedEnd = Buffer.from(signedTrailerBody(data, 65536, [['x-amz-checksum-crc32c', crc32cb64(data)]]).toString('latin1')
      .replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    expectFailure(await run(new AwsChunkedDecoder(options()), [unsignedEnd]), 'SignatureDoesNotMatch');
  });

  it('fails a correctly signed but wrong checksum with BadDigest', async () => {
    const body = signedTrailerBody(data, 65536, [['x-amz-checksum-crc32c', crc32cb64(Buffer.from('x'))]]);
    expectFailure(await run(new AwsChunkedDecoder(options()), [body]), 'BadDigest');
  });

  it('refuses a signed form without a verified signature to chain from', () => {
    expect(() => new AwsChunkedDecoder({ payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' })).toThrow(S3Error);
  });
});
