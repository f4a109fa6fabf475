/**
 * Reading the SigV4 fields out of an Authorization header or a presigned URL's query, with AWS's
 * error for each way they can be wrong. Nothing here looks at keys or signatures' values.
 */
import { S3Error } from './s3-error.js';
import { ALGORITHM } from './sigv4-crypto.js';

/** The `Credential=` value: who signs, and the scope the signing key was derived for. */
export interface SigV4Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  /** date/region/service/aws4_request, as signed. */
  scope: string;
}

/** What the client claims; verification still has to check every part of it. */
export interface SigV4Claim {
  credential: SigV4Credential;
  /** Signed header names in the order the client listed them, used as given. */
  signedHeaders: string[];
  /** The SignedHeaders text exactly as sent: the canonical request carries it verbatim. */
  signedHeadersText: string;
  signature: string;
}

export interface PresignClaim extends SigV4Claim {
  amzDate: string;
  expiresSeconds: number;
}

/** The longest validity AWS allows a presigned URL: seven days. */
export const MAX_PRESIGN_SECONDS = 604_800;

const basicDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The instant of an ISO 8601 basic timestamp (20261206T120000Z), or undefined when it is not one. */
export function parseAmzDate(text: string): Date | undefined {
  const m = basicDate.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 20261332 over into the next year; a real timestamp survives the round trip.
  return formatAmzDate(date) === text ? date : undefined;
}

export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

const signedHeaderName = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

function parseSignedHeaders(text: string, fail: (detail: string) => S3Error): string[] {
  const names = text.split(';');
  if (names.some((n) => !signedHeaderName.test(n))) throw fail(`SignedHeaders "${text}" is not a ';'-separated list of lower-case header names`);
  if (!names.includes('host')) throw fail('\'Host\' must be a signed header');
  return names;
}

/** AKID/YYYYMMDD/region/service/aws4_request. Any region is accepted: FST is one region whatever the client names. */
function parseCredential(text: string, fail: (detail: string) => S3Error): SigV4Credential {
  const parts = text.split('/');
  const [accessKeyId, date, region, service, terminal] = parts;
  if (parts.length !== 5 || !accessKeyId || !date || !region || !service || !terminal || !/^\d{8}$/.test(date)) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  if (service !== 's3') throw fail(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminal !== 'aws4_request') throw fail(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return { accessKeyId, date, region, service, scope: `${date}/${region}/${service}/${terminal}` };
}

const headerError = (detail: string): S3Error =>
  new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`);

/** The fields of `Authorization: AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..`. */
export function parseAuthorizationHeader(value: string): SigV4Claim {
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  if (scheme !== ALGORITHM) throw unsupportedScheme(scheme);
  const fields = new Map<string, string>();
  for (const item of trimmed.slice(space + 1).split(',')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    if (eq < 0 || fields.has(name)) throw headerError(`"${item.trim()}" is not one Name=Value component.`);
    fields.set(name, item.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeadersText = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeadersText === undefined || signature === undefined || fields.size !== 3) {
    throw headerError('it must carry exactly Credential, SignedHeaders and Signature.');
  }
  return {
    credential: parseCredential(credential, headerError),
    signedHeaders: parseSignedHeaders(signedHeadersText, headerError),
    signedHeadersText,
    signature,
  };
}

function unsupportedScheme(scheme: string): S3Error {
  if (scheme === 'AWS4-ECDSA-P256-SHA256') return new S3Error('NotImplemented', 'Signature Version 4A is not supported.');
  if (scheme === 'AWS') {
    return new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  return new S3Error('InvalidArgument', 'Unsupported Authorization Type');
}

const queryError = (detail: string): S3Error =>
  new S3Error('AuthorizationQueryParametersError', `Error parsing the query-string authentication parameters; ${detail}`);

/** The X-Amz-* parameters of a presigned URL, already percent-decoded. */
export function parsePresignQuery(param: (name: string) => string | undefined): PresignClaim {
  const algorithm = param('X-Amz-Algorithm');
  if (algorithm !== undefined && algorithm !== ALGORITHM) throw unsupportedScheme(algorithm);
  const credential = param('X-Amz-Credential');
  const amzDate = param('X-Amz-Date');
  const expires = param('X-Amz-Expires');
  const signedHeadersText = param('X-Amz-SignedHeaders');
  const signature = param('X-Amz-Signature');
  if (algorithm === undefined || credential === undefined || amzDate === undefined || expires === undefined
    || signedHeadersText === undefined || signature === undefined) {
    throw new S3Error('AuthorizationQueryParametersError');
  }
  const fail = queryError;
  if (!parseAmzDate(amzDate)) throw fail('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'".');
  if (!/^\d{1,7}$/.test(expires)) throw fail('X-Amz-Expires should be a number.');
  const expiresSeconds = Number(expires);
  if (expiresSeconds < 1) throw fail('X-Amz-Expires must be non-negative.');
  if (expiresSeconds > MAX_PRESIGN_SECONDS) throw fail('X-Amz-Expires must be less than a week (in seconds) that is 604800.');
  return {
    credential: parseCredential(credential, fail),
    signedHeaders: parseSignedHeaders(signedHeadersText, fail),
    signedHeadersText,
    signature,
    amzDate,
    expiresSeconds,
  };
}
