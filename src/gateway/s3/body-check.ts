/**
 * The transforms a PUT or POST body passes through before its bytes may be committed: aws-chunked
 * decoding (with chunk signatures and trailer checksums), then each digest the client declared in
 * headers. Each fails before the stream ends; problems visible in the headers alone (a malformed
 * Content-MD5, two checksum headers) throw S3Error at once, before any byte is read.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import { AwsChunkedDecoder } from './aws-chunked.js';
import { checksumAlgorithmOf, isChecksumName, isWellFormedChecksum } from './checksums.js';
import { checksumCheck, md5Check, sha256Check } from './digest-check.js';
import { S3Error } from './s3-error.js';
import type { VerifiedSignature } from './sigv4.js';

export { Md5Tee } from './md5-tee.js';

const HEX64 = /^[0-9a-fA-F]{64}$/;

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The checks `headers` call for, in the order to pipe the body through; decoded bytes come out of
 * the last. `verified` is the request's signature, undefined for an anonymous request.
 */
export function bodyChecks(headers: IncomingHttpHeaders, verified: VerifiedSignature | undefined): Transform[] {
  const checks: Transform[] = [];
  const declared = single(headers, 'x-amz-content-sha256');
  const decoder = chunkedDecoder(headers, verified, declared);
  if (decoder) checks.push(decoder);
  const sha256 = [verified?.payloadHash, declared].find((v) => v !== undefined && HEX64.test(v));
  if (sha256 !== undefined) checks.push(sha256Check(sha256));
  const md5 = single(headers, 'content-md5');
  if (md5 !== undefined) {
    const bytes = Buffer.from(md5, 'base64');
    if (bytes.length !== 16 || bytes.toString('base64') !== md5) throw new S3Error('InvalidDigest');
    checks.push(md5Check(md5));
  }
  const checksumHeaders = Object.keys(headers).filter(isChecksumName);
  if (checksumHeaders.length > 1) {
    throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  for (const name of checksumHeaders) {
    const alg = checksumAlgorithmOf(name);
    const value = single(headers, name) ?? '';
    if (!alg) throw new S3Error('NotImplemented', `${name} is not supported.`);
    if (!isWellFormedChecksum(alg, value)) throw new S3Error('InvalidRequest', `Value for ${name} header is invalid.`);
    checks.push(checksumCheck(alg, value));
  }
  return checks;
}

/** The aws-chunked decoder, when Content-Encoding or the payload hash says the body is so framed. */
function chunkedDecoder(
  headers: IncomingHttpHeaders,
  verified: VerifiedSignature | undefined,
  declared: string | undefined,
): AwsChunkedDecoder | undefined {
  const streaming = [verified?.payloadHash, declared].find((v) => v?.startsWith('STREAMING-'));
  const encodings = (single(headers, 'content-encoding') ?? '').split(',').map((e) => e.trim().toLowerCase());
  if (streaming === undefined && !encodings.includes('aws-chunked')) return undefined;
  const decodedText = single(headers, 'x-amz-decoded-content-length');
  if (decodedText !== undefined && !/^\d{1,15}$/.test(decodedText)) {
    throw new S3Error('InvalidArgument', 'x-amz-decoded-content-length is not a length.');
  }
  const trailerText = single(headers, 'x-amz-trailer');
  return new AwsChunkedDecoder({
    payloadHash: streaming ?? 'UNSIGNED-PAYLOAD',
    ...(verified && { verified }),
    ...(decodedText !== undefined && { decodedLength: Number(decodedText) }),
    ...(trailerText !== undefined && {
      trailerNames: trailerText.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== ''),
    }),
  });
}
