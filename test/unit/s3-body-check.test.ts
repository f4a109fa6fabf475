/**
 * bodyChecks: the transforms a body passes through before it may be committed. Each test pipes a
 * body into a sink that "commits" only in final(), as the gateway's writer will, and asserts a bad
 * body never gets there.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { bodyChecks, Md5Tee } from '../../src/gateway/s3/body-check.js';
import { S3Error, type S3ErrorCode } from '../../src/gateway/s3/s3-error.js';

interface Stored {
  committed: boolean;
  data: Buffer;
  error?: S3Error;
}

/** Pipes `body` (in small pieces) through `checks` into a sink that commits on end. */
async function store(body: Buffer, checks: Transform[]): Promise<Stored> {
  const chunks: Buffer[] = [];
  const result: Stored = { committed: false, data: Buffer.alloc(0) };
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
    final(cb) {
      result.committed = true;
      cb();
    },
  });
  const pieces = Array.from({ length: Math.ceil(body.length / 7) }, (_, i) => body.subarray(i * 7, i * 7 + 7));
  try {
    await pipeline([Readable.from(pieces), ...checks, sink]);
  } catch (err) {
    result.error = err as S3Error;
  }
  result.data = Buffer.concat(chunks);
  return result;
}

function expectRejected(stored: Stored, code: S3ErrorCode): void {
  expect(stored.error).toBeInstanceOf(S3Error);
  expect(stored.error?.code).toBe(code);
  expect(stored.committed).toBe(false);
}

function expectSyncFailure(headers: IncomingHttpHeaders, code: S3ErrorCode): void {
  let caught: unknown;
  try {
    bodyChecks(headers, undefined);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(S3Error);
  expect((caught as S3Error).code).toBe(code);
}

const body = Buffer.from('The quick brown fox jumps over the lazy dog, '.repeat(50));
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const md5b64 = (b: Buffer): string => createHash('md5').update(b).digest('base64');
const crc32b64 = (b: Buffer): string => { const out = Buffer.alloc(4); out.writeUInt32BE(crc32(b)); return out.toString('base64'); };

describe('bodyChecks', () => {
  it('needs no transform for a plain unsigned body', () => {
    expect(bodyChecks({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, undefined)).toEqual([]);
  });

  it('commits a body whose sha256 is x-amz-content-sha256, and not one whose is not', async () => {
    const ok = await store(body, bodyChecks({ 'x-amz-content-sha256': sha256(body) }, undefined));
    expect(ok.error).toBeUndefined();
    expect(ok.committed).toBe(true);
    expect(ok.data.equals(body)).toBe(true);
    const bad = await store(body, bodyChecks({ 'x-amz-content-sha256': sha256(Buffer.from('other')) }, undefined));
    expectRejected(bad, 'XAmzContentSHA256Mismatch');
    expect(bad.error?.details.S3ComputedContentSHA256).toBe(sha256(body));
  });

  it('checks Content-MD5: match, mismatch, malformed', async () => {
    expect((await store(body, bodyChecks({ 'content-md5': md5b64(body) }, undefined))).committed).toBe(true);
    expectRejected(await store(body, bodyChecks({ 'content-md5': md5b64(body.subarray(1)) }, undefined)), 'BadDigest');
    expectSyncFailure({ 'content-md5': 'not-md5' }, 'InvalidDigest');
    expectSyncFailure({ 'content-md5': Buffer.alloc(15).toString('base64') }, 'InvalidDigest');
  });

  it('checks an x-amz-checksum-* header on a plain body', async () => {
    expect((await store(body, bodyChecks({ 'x-amz-checksum-crc32': crc32b64(body) }, undefined))).committed).toBe(true);
    expectRejected(await store(body, bodyChecks({ 'x-amz-checksum-crc32': crc32b64(Buffer.from('x')) }, undefined)), 'BadDigest');
    const sha = createHash('sha256').update(body).digest('base64');
    expect((await store(body, bodyChecks({ 'x-amz-checksum-sha256': sha }, undefined))).committed).toBe(true);
    expectRejected(await store(Buffer.concat([body, Buffer.from('!')]), bodyChecks({ 'x-amz-checksum-sha256': sha }, undefined)), 'BadDigest');
  });

  it('refuses two checksum headers, an unsupported one and a malformed value before reading', () => {
    expectSyncFailure({ 'x-amz-checksum-crc32': crc32b64(body), 'x-amz-checksum-sha1': 'AAAA' }, 'InvalidRequest');
    expectSyncFailure({ 'x-amz-checksum-crc64nvme': 'AAAAAAAAAAA=' }, 'NotImplemented');
    expectSyncFailure({ 'x-amz-checksum-crc32': 'AAAA' }, 'InvalidRequest');
    // Headers that name a checksum algorithm or mode carry no value to check.
    expect(bodyChecks({ 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'COMPOSITE' }, undefined)).toEqual([]);
  });

  it('decodes aws-chunked first, so the later checks see the decoded bytes', async () => {
    const framed = Buffer.concat([
      Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc32b64(body)}\r\n\r\n`),
    ]);
    const headers: IncomingHttpHeaders = {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(body.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'content-md5': md5b64(body),
    };
    const ok = await store(framed, bodyChecks(headers, undefined));
    expect(ok.error).toBeUndefined();
    expect(ok.data.equals(body)).toBe(true);
    expectRejected(await store(framed, bodyChecks({ ...headers, 'content-md5': md5b64(framed) }, undefined)), 'BadDigest');
    expectRejected(await store(framed.subarray(0, framed.length - 20), bodyChecks(headers, undefined)), 'IncompleteBody');
  });

  it('refuses a signed streaming body on an anonymous request', () => {
    expectSyncFailure({ 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked' }, 'InvalidRequest');
  });
});

describe('Md5Tee', () => {
  it('passes the body through and gives its hex MD5 (the ETag) once it has ended', async () => {
    const tee = new Md5Tee();
    expect(() => tee.hex()).toThrow();
    const stored = await store(body, [tee]);
    expect(stored.data.equals(body)).toBe(true);
    expect(tee.hex()).toBe(createHash('md5').update(body).digest('hex'));
    expect(tee.bytes).toBe(body.length);
  });
});
