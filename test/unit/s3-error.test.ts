/** S3Error: statuses from the one table, AWS's default messages, and the XML error body. */
import { describe, expect, it } from 'vitest';
import { S3Error, s3ErrorStatus, s3ErrorXml, type S3ErrorCode } from '../../src/gateway/s3/s3-error.js';

describe('S3Error', () => {
  it.each<[S3ErrorCode, number]>([
    ['AccessDenied', 403], ['SignatureDoesNotMatch', 403], ['InvalidAccessKeyId', 403], ['RequestTimeTooSkewed', 403],
    ['AuthorizationHeaderMalformed', 400], ['NoSuchBucket', 404], ['NoSuchKey', 404], ['NoSuchUpload', 404],
    ['BucketAlreadyOwnedByYou', 409], ['BucketNotEmpty', 409], ['InvalidRange', 416], ['MethodNotAllowed', 405],
    ['NotImplemented', 501], ['InternalError', 500], ['SlowDown', 503], ['ServiceUnavailable', 503],
    ['PreconditionFailed', 412], ['MissingContentLength', 411], ['MalformedXML', 400], ['EntityTooLarge', 400],
  ])('%s answers HTTP %i', (code, status) => {
    expect(new S3Error(code).status).toBe(status);
    expect(s3ErrorStatus(code)).toBe(status);
  });

  it('has AWS\'s message by default, a given one otherwise, and keeps the cause', () => {
    expect(new S3Error('NoSuchKey').message).toBe('The specified key does not exist.');
    const cause = new Error('disk');
    const err = new S3Error('InternalError', 'chunkserver unreachable', { cause, resource: '/b/k' });
    expect(err.message).toBe('chunkserver unreachable');
    expect(err.cause).toBe(cause);
    expect(err.resource).toBe('/b/k');
    expect(err).toBeInstanceOf(Error);
  });

  it('serialises as AWS\'s error document, escaped', () => {
    const err = new S3Error('NoSuchKey', undefined, { resource: '/bucket/a&b<c>' });
    expect(s3ErrorXml(err, 'REQ-1')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
      + '<Message>The specified key does not exist.</Message><Resource>/bucket/a&amp;b&lt;c&gt;</Resource>'
      + '<RequestId>REQ-1</RequestId></Error>');
    expect(s3ErrorXml(new S3Error('SlowDown', 'x"y'), 'r')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
      + '<Message>x&quot;y</Message><RequestId>r</RequestId></Error>');
  });

  it('adds the details AWS gives for some codes', () => {
    const err = new S3Error('RequestTimeTooSkewed', undefined, { details: { RequestTime: '20261206T100000Z', MaxAllowedSkewMilliseconds: '900000' } });
    expect(s3ErrorXml(err, 'r')).toContain('<RequestTime>20261206T100000Z</RequestTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>r</RequestId>');
  });
});
