/**
 * Server-side verification of AWS Signature Version 4, for both forms S3 clients use: the
 * Authorization header and the presigned URL. It answers who signed the request and hands the
 * aws-chunked decoder what it needs to keep verifying the body (signing key, seed signature, scope).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './s3-error.js';
import {
  canonicalHeaders, canonicalQuery, canonicalRequest, canonicalUri, decodeComponent, headerValues,
  parseRawQuery, rawCanonicalQuery, type RawQueryPair,
} from './sigv4-canonical.js';
import { EMPTY_SHA256, requestStringToSign, sameSignature, signHex, signingKey } from './sigv4-crypto.js';
import {
  formatAmzDate, parseAmzDate, parseAuthorizationHeader, parsePresignQuery, type SigV4Claim,
} from './sigv4-parse.js';

export interface SignedRequest {
  method: string;
  /** As received, still percent-encoded, without the query. */
  rawPath: string;
  /** After '?', '' if none. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  /**
   * Node's `req.headersDistinct`, when the server has it: a header sent twice is then signed as
   * AWS joins it (values with ','), where `headers` has Node's ', ' join or drops the repeat.
   */
  headersDistinct?: NodeJS.Dict<string[]>;
}

export interface VerifiedSignature {
  accessKeyId: string;
  /**
   * The x-amz-content-sha256 value the signature covers: a hex sha256, 'UNSIGNED-PAYLOAD',
   * 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' or
   * 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'. Presigned URLs: 'UNSIGNED-PAYLOAD' unless the
   * URL carries X-Amz-Content-Sha256.
   */
  payloadHash: string;
  signingKey: Buffer;
  /** Hex, the seed the chunk signatures of an aws-chunked body chain from. */
  signature: string;
  /** date/region/s3/aws4_request */
  scope: string;
  amzDate: string;
  presigned: boolean;
}

/** How far a header-signed request's clock may be from ours, as AWS allows. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

const PAYLOAD_TOKENS = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
]);

/** A claim with the parts that come from the request around it, ready to be checked. */
interface Attempt {
  claim: SigV4Claim;
  amzDate: string;
  payloadHash: string;
  presigned: boolean;
}

/**
 * Whether the request carries any authentication for verifySigV4 to judge (an Authorization
 * header or authentication query parameters, of any signature version). When false, verifySigV4
 * returns undefined: the request is anonymous.
 */
export function hasSigV4(req: SignedRequest): boolean {
  return authorizationOf(req.headers) !== undefined || authQueryKind(firstParams(parseRawQuery(req.rawQuery))) !== undefined;
}

/**
 * Who signed `req`: undefined when it carries no authentication at all (anonymous); throws
 * S3Error when it carries some that is malformed, unsupported (SigV2, SigV4A), stale or wrong.
 */
export function verifySigV4(
  req: SignedRequest,
  secretOf: (accessKeyId: string) => string | undefined,
  now: Date,
): VerifiedSignature | undefined {
  const pairs = parseRawQuery(req.rawQuery);
  const params = firstParams(pairs);
  const authorization = authorizationOf(req.headers);
  const queryKind = authQueryKind(params);
  if (authorization !== undefined && queryKind !== undefined) {
    throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
  }
  if (queryKind === 'v2') {
    throw new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  if (authorization !== undefined) return check(req, pairs, headerAttempt(req.headers, authorization, now), secretOf);
  if (queryKind === 'v4') return check(req, pairs, presignAttempt(params, now), secretOf);
  return undefined;
}

function authorizationOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers.authorization;
  return value === undefined || value === '' ? undefined : value;
}

/** Each decoded query key with its first decoded value. */
function firstParams(pairs: readonly RawQueryPair[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const { key, value } of pairs) {
    const name = decodeComponent(key);
    if (!params.has(name)) params.set(name, decodeComponent(value));
  }
  return params;
}

function authQueryKind(params: Map<string, string>): 'v4' | 'v2' | undefined {
  if (params.has('X-Amz-Algorithm') || params.has('X-Amz-Credential') || params.has('X-Amz-Signature')) return 'v4';
  if (params.has('AWSAccessKeyId')) return 'v2';
  return undefined;
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A declared payload hash: one of the tokens or a hex sha256. Signed-ECDSA streaming is SigV4A. */
function checkPayloadHash(value: string): string {
  if (PAYLOAD_TOKENS.has(value) || /^[0-9a-fA-F]{64}$/.test(value)) return value;
  if (value.startsWith('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD')) {
    throw new S3Error('NotImplemented', 'Signature Version 4A is not supported.');
  }
  throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.');
}

function headerAttempt(headers: IncomingHttpHeaders, authorization: string, now: Date): Attempt {
  const claim = parseAuthorizationHeader(authorization);
  const declared = single(headers, 'x-amz-content-sha256');
  // S3 requires the header. curl --aws-sigv4 (before 8.x) sends none and signs the empty payload's
  // hash even for uploads: accepted, with the body as unsigned as an UNSIGNED-PAYLOAD one.
  const payloadHash = declared === undefined ? EMPTY_SHA256 : checkPayloadHash(declared);
  const amzDate = requestAmzDate(headers);
  if (claim.credential.date !== amzDate.slice(0, 8)) {
    throw new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; Invalid credential date "${claim.credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  const requestTime = parseAmzDate(amzDate)!;
  if (Math.abs(now.getTime() - requestTime.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      details: { RequestTime: amzDate, ServerTime: now.toISOString(), MaxAllowedSkewMilliseconds: String(MAX_CLOCK_SKEW_MS) },
    });
  }
  return { claim, amzDate, payloadHash, presigned: false };
}

/** The signing timestamp: x-amz-date, or the Date header (RFC 7231) when a client signs that instead. */
function requestAmzDate(headers: IncomingHttpHeaders): string {
  const amz = single(headers, 'x-amz-date');
  if (amz !== undefined) {
    if (parseAmzDate(amz)) return amz;
  } else if (headers.date !== undefined) {
    const ms = Date.parse(headers.date);
    if (Number.isFinite(ms)) return formatAmzDate(new Date(ms));
  }
  throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
}

function presignAttempt(params: Map<string, string>, now: Date): Attempt {
  const claim = parsePresignQuery((name) => params.get(name));
  const { amzDate, expiresSeconds } = claim;
  if (claim.credential.date !== amzDate.slice(0, 8)) {
    throw new S3Error('AuthorizationQueryParametersError', `Invalid credential date "${claim.credential.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
  }
  const signedAt = parseAmzDate(amzDate)!.getTime();
  if (signedAt - now.getTime() > MAX_CLOCK_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  const expiresAt = signedAt + expiresSeconds * 1000;
  if (now.getTime() > expiresAt) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      details: { 'X-Amz-Expires': String(expiresSeconds), Expires: new Date(expiresAt).toISOString(), ServerTime: now.toISOString() },
    });
  }
  // A presigned URL signs UNSIGNED-PAYLOAD unless the signer hoisted an x-amz-content-sha256 into it.
  let payloadHash = 'UNSIGNED-PAYLOAD';
  for (const [name, value] of params) if (name.toLowerCase() === 'x-amz-content-sha256') payloadHash = checkPayloadHash(value);
  return { claim, amzDate, payloadHash, presigned: true };
}

/**
 * Recomputes the signature and compares. The canonical URI and query are tried in AWS's form and,
 * failing that, as received: some clients (curl --aws-sigv4 in 7.x) sign the path and query
 * exactly as they send them, e.g. an unencoded '('. Either way the signature covers the bytes the
 * server goes on to interpret, so accepting both admits nothing the signer did not sign.
 */
function check(
  req: SignedRequest,
  pairs: readonly RawQueryPair[],
  attempt: Attempt,
  secretOf: (accessKeyId: string) => string | undefined,
): VerifiedSignature {
  const { claim, amzDate, payloadHash, presigned } = attempt;
  const { accessKeyId, date, region, service, scope } = claim.credential;
  const secret = secretOf(accessKeyId);
  if (secret === undefined) throw new S3Error('InvalidAccessKeyId');
  const key = signingKey(secret, date, region, service);
  const headerBlock = canonicalHeaders(claim.signedHeaders, (name) => headerValues(req.headers, name, req.headersDistinct));
  const exclude = presigned ? 'X-Amz-Signature' : undefined;
  const uris = new Set([canonicalUri(req.rawPath), req.rawPath === '' ? '/' : req.rawPath]);
  const queries = new Set([canonicalQuery(pairs, exclude), rawCanonicalQuery(pairs, exclude)]);
  const provided = claim.signature.toLowerCase();
  let first: { canonical: string; stringToSign: string } | undefined;
  for (const uri of uris) {
    for (const query of queries) {
      const canonical = canonicalRequest(req.method, uri, query, headerBlock, claim.signedHeadersText, payloadHash);
      const stringToSign = requestStringToSign(amzDate, scope, canonical);
      const expected = signHex(key, stringToSign);
      if (sameSignature(expected, provided)) {
        const unsignedBody = !presigned && single(req.headers, 'x-amz-content-sha256') === undefined;
        return { accessKeyId, payloadHash: unsignedBody ? 'UNSIGNED-PAYLOAD' : payloadHash, signingKey: key, signature: expected, scope, amzDate, presigned };
      }
      first ??= { canonical, stringToSign };
    }
  }
  throw new S3Error('SignatureDoesNotMatch', undefined, {
    details: {
      AWSAccessKeyId: accessKeyId,
      StringToSign: first?.stringToSign ?? '',
      SignatureProvided: claim.signature,
      CanonicalRequest: first?.canonical ?? '',
    },
  });
}
