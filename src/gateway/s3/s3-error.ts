/**
 * S3's error vocabulary: a code, the HTTP status AWS documents for it, and AWS's usual message.
 * The gateway throws S3Error wherever a request fails; only the HTTP layer turns it into a
 * response (status from the table below, body from s3ErrorXml), so no handler picks a status itself.
 */
import { escapeXml } from './xml-text.js';

/** Status and default message of every code, the one place either is decided. */
const table = {
  AccessDenied: [403, 'Access Denied'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  AuthorizationHeaderMalformed: [400, 'The authorization header that you provided is not valid.'],
  AuthorizationQueryParametersError: [400, 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.'],
  MissingSecurityHeader: [400, 'Your request is missing a required header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchUpload: [404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidPart: [400, 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.'],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed object size.'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MissingRequestBodyError: [400, 'Request Body is empty.'],
  InvalidRequest: [400, 'Invalid Request'],
  XAmzContentSHA256Mismatch: [400, 'The provided \'x-amz-content-sha256\' header does not match what was computed.'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  ServiceUnavailable: [503, 'Service is unable to handle request.'],
  KeyTooLongError: [400, 'Your key is too long.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  RequestHeaderSectionTooLarge: [400, 'Your request header section exceeds the maximum allowed size.'],
} as const satisfies Record<string, readonly [number, string]>;

export type S3ErrorCode = keyof typeof table;

/** The HTTP status AWS answers `code` with. */
export function s3ErrorStatus(code: S3ErrorCode): number {
  return table[code][0];
}

/** A request failure with S3 meaning; `resource` is the bucket or key path it concerns. */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  readonly status: number;
  resource?: string;
  /**
   * Extra elements AWS adds to some error bodies (the StringToSign of a SignatureDoesNotMatch,
   * the ServerTime of a RequestTimeTooSkewed), in the order they should appear.
   */
  readonly details: Record<string, string>;

  constructor(
    readonly code: S3ErrorCode,
    message?: string,
    opts?: { cause?: unknown; resource?: string; details?: Record<string, string> },
  ) {
    super(message ?? table[code][1], opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.status = table[code][0];
    if (opts?.resource !== undefined) this.resource = opts.resource;
    this.details = opts?.details ?? {};
  }
}

/** The XML body of an error response. `<Resource>` appears only when the error names one. */
export function s3ErrorXml(err: S3Error, requestId: string): string {
  const element = (name: string, text: string): string => `<${name}>${escapeXml(text)}</${name}>`;
  const parts = [element('Code', err.code), element('Message', err.message)];
  if (err.resource !== undefined) parts.push(element('Resource', err.resource));
  for (const [name, text] of Object.entries(err.details)) {
    // Detail names come from this codebase, never from a request; a bad one is a bug to surface.
    if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(name)) throw new Error(`not an XML element name: ${name}`);
    parts.push(element(name, text));
  }
  parts.push(element('RequestId', requestId));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${parts.join('')}</Error>`;
}
