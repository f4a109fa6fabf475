/**
 * The HMAC chain of AWS Signature Version 4: the signing key derived from a secret and a scope,
 * and the three strings a request, a payload chunk and a trailer are signed over. Kept apart from
 * the parsing so the chunk decoder can chain signatures without knowing about HTTP requests.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/** sha256("") in hex: the "hash of the chunk's headers" every payload chunk signs, always empty. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

/** What a request's signature signs: the timestamp, the scope and the canonical request's hash. */
export function requestStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
}

/** What one aws-chunked chunk signs: chained to the previous signature (the seed for the first). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256: string): string {
  return ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previousSignature, EMPTY_SHA256, chunkSha256].join('\n');
}

/** What the trailer signature signs: the final chunk's signature and the hash of the trailer lines. */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, trailerSha256: string): string {
  return ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, previousSignature, trailerSha256].join('\n');
}

export function signHex(key: Uint8Array, stringToSign: string): string {
  return hmac(key, stringToSign).toString('hex');
}

const hex64 = /^[0-9a-f]{64}$/;

/** Whether a provided hex signature equals the expected one, in time independent of where they differ. */
export function sameSignature(expectedHex: string, providedHex: string): boolean {
  if (!hex64.test(providedHex) || !hex64.test(expectedHex)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(providedHex, 'hex'));
}
