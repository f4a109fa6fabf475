/**
 * SigV4 verification against requests signed by the AWS SDK's own signer, against AWS's
 * documented examples, and against every way a signature or its framing can be wrong.
 */
import { describe, expect, it } from 'vitest';
import { canonicalUri } from '../../src/gateway/s3/sigv4-canonical.js';
import { hasSigV4, verifySigV4, type SignedRequest } from '../../src/gateway/s3/sigv4.js';
import {
  AKID, deriveKey, hmacOf, presign, received, s3Signer, secrets, sha256Of, signHeaders, wirePath, type SmithyRequest,
  s3Rejects as rejects,
} from '../helpers/s3-signing.js';

const T0 = new Date('2026-12-06T10:00:00Z');
const minutes = (n: number): Date => new Date(T0.getTime() + n * 60_000);
const EMPTY = sha256Of('');

const get = (path: string, query: Record<string, string> = {}, headers: Record<string, string> = {}): SmithyRequest => ({
  method: 'GET',
  path,
  query,
  headers: { host: 'gw.example:9000', 'x-amz-content-sha256': EMPTY, ...headers },
});

describe('AWS documented examples (AKIAIOSFODNN7EXAMPLE, 2013-05-24)', () => {
  const awsSecrets = (akid: string): string | undefined =>
    akid === 'AKIAIOSFODNN7EXAMPLE' ? 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' : undefined;
  const at = new Date('2013-05-24T00:00:00Z');

  it('GET Object with a Range, header authentication', () => {
    const req: SignedRequest = {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': EMPTY,
        'x-amz-date': '20130524T000000Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
      },
    };
    const v = verifySigV4(req, awsSecrets, at);
    expect(v).toMatchObject({
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      payloadHash: EMPTY,
      signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
      scope: '20130524/us-east-1/s3/aws4_request',
      amzDate: '20130524T000000Z',
      presigned: false,
    });
    expect(v?.signingKey.equals(deriveKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1'))).toBe(true);
    rejects(() => verifySigV4({ ...req, headers: { ...req.headers, range: 'bytes=0-10' } }, awsSecrets, at), 'SignatureDoesNotMatch');
  });

  it('GET Object with a presigned URL', () => {
    const req: SignedRequest = {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery: 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host: 'examplebucket.s3.amazonaws.com' },
    };
    expect(verifySigV4(req, awsSecrets, new Date('2013-05-24T12:00:00Z'))).toMatchObject({ presigned: true, payloadHash: 'UNSIGNED-PAYLOAD' });
    rejects(() => verifySigV4(req, awsSecrets, new Date('2013-05-25T00:00:01Z')), 'AccessDenied', /^Request has expired$/);
  });
});

describe('header authentication, signed by the AWS SDK signer', () => {
  it('accepts a signed request and returns what the body decoder needs', async () => {
    const signed = await signHeaders(get('/bucket/key.txt'), T0);
    const v = verifySigV4(received(signed), secrets, T0);
    expect(v).toBeDefined();
    expect(v!.accessKeyId).toBe(AKID);
    expect(v!.scope).toBe('20261206/us-east-1/s3/aws4_request');
    expect(signed.headers.authorization).toContain(`Signature=${v!.signature}`);
    expect(hasSigV4(received(signed))).toBe(true);
  });

  it.each([
    ['spaces', 'dir one/a b.txt'],
    ['unicode', 'ünïcødé/ключ/日本語.txt'],
    ['parentheses', 'photos/(1) copy.jpg'],
    ['plus, equals and ampersand', 'a+b=c&d.txt'],
    ['sub-delims and tilde', "it's!*~$@,;:.txt"],
    ['dot segments, kept as S3 keeps them', 'a/./b/../c//d'],
  ])('accepts keys with %s in path and query', async (_what, key) => {
    const req = get(wirePath('bucket', key), { prefix: key, 'list-type': '2', 'start-after': `${key}=&+` });
    const signed = await signHeaders(req, T0);
    expect(verifySigV4(received(signed), secrets, T0)?.accessKeyId).toBe(AKID);
  });

  it('accepts a bare query key (?uploads) as signed with an empty value', async () => {
    const signed = await signHeaders({ ...get('/bucket/big.bin', { uploads: '' }), method: 'POST' }, T0);
    const seen = received(signed);
    expect(seen.rawQuery).toBe('uploads');
    expect(verifySigV4(seen, secrets, T0)).toBeDefined();
  });

  it('accepts any region the client signs for', async () => {
    const signed = await signHeaders(get('/bucket/k'), T0, s3Signer({ region: 'eu-west-3' }));
    expect(verifySigV4(received(signed), secrets, T0)?.scope).toBe('20261206/eu-west-3/s3/aws4_request');
  });

  it('accepts a path signed exactly as sent (curl 7.88 --aws-sigv4 leaves "(" unencoded)', async () => {
    const raw = '/bucket/report(final).txt';
    expect(canonicalUri(raw)).toBe('/bucket/report%28final%29.txt');
    const signed = await signHeaders(get(raw), T0);
    expect(verifySigV4(received(signed, raw), secrets, T0)).toBeDefined();
    // The same signature does not cover a different path.
    rejects(() => verifySigV4(received(signed, '/bucket/report(final).txt2'), secrets, T0), 'SignatureDoesNotMatch');
  });

  it('rejects a wrong secret, and any change to a signed header, the path or the query', async () => {
    const req = get('/bucket/key', { prefix: 'p' }, { 'x-amz-meta-colour': 'blue' });
    const wrongKey = received(await signHeaders(req, T0, s3Signer({ secret: 'not-the-secret' })));
    const err = rejects(() => verifySigV4(wrongKey, secrets, T0), 'SignatureDoesNotMatch');
    expect(err.status).toBe(403);
    expect(err.details.CanonicalRequest).toContain('x-amz-meta-colour:blue');

    const good = received(await signHeaders(req, T0));
    expect(verifySigV4(good, secrets, T0)).toBeDefined();
    rejects(() => verifySigV4({ ...good, headers: { ...good.headers, 'x-amz-meta-colour': 'red' } }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4({ ...good, rawPath: '/bucket/key2' }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4({ ...good, rawQuery: 'prefix=q' }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4({ ...good, rawQuery: `${good.rawQuery}&delimiter=%2F` }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4({ ...good, method: 'DELETE' }, secrets, T0), 'SignatureDoesNotMatch');
    // A header that was not signed may change freely.
    expect(verifySigV4({ ...good, headers: { ...good.headers, 'user-agent': 'other' } }, secrets, T0)).toBeDefined();
  });

  it('signs a repeated header as AWS joins it, when the server passes headersDistinct', async () => {
    const signed = received(await signHeaders(get('/b/k', {}, { 'x-amz-meta-tags': 'a,b' }), T0));
    const asNodeJoins = { ...signed, headers: { ...signed.headers, 'x-amz-meta-tags': 'a, b' } };
    rejects(() => verifySigV4(asNodeJoins, secrets, T0), 'SignatureDoesNotMatch');
    expect(verifySigV4({ ...asNodeJoins, headersDistinct: { 'x-amz-meta-tags': ['a', 'b'] } }, secrets, T0)).toBeDefined();
  });

  it('trims header values and collapses inner runs of spaces', async () => {
    const signed = received(await signHeaders(get('/b/k', {}, { 'x-amz-meta-note': 'one two three' }), T0));
    const spaced = { ...signed, headers: { ...signed.headers, 'x-amz-meta-note': '  one   two \t three ' } };
    expect(verifySigV4(spaced, secrets, T0)).toBeDefined();
  });

  it('rejects an unknown access key', async () => {
    const signed = received(await signHeaders(get('/b/k'), T0));
    const err = rejects(() => verifySigV4(signed, () => undefined, T0), 'InvalidAccessKeyId');
    expect(err.status).toBe(403);
  });

  it('rejects a request more than 15 minutes away from the server clock, either way', async () => {
    const signed = received(await signHeaders(get('/b/k'), T0));
    expect(verifySigV4(signed, secrets, minutes(14))).toBeDefined();
    expect(verifySigV4(signed, secrets, minutes(-14))).toBeDefined();
    rejects(() => verifySigV4(signed, secrets, minutes(16)), 'RequestTimeTooSkewed');
    const err = rejects(() => verifySigV4(signed, secrets, minutes(-16)), 'RequestTimeTooSkewed');
    expect(err.status).toBe(403);
  });

  it('uses the Date header when there is no x-amz-date', () => {
    const date = 'Sun, 06 Dec 2026 10:00:00 GMT';
    const canonical = ['GET', '/b/k', '', `date:${date}`, 'host:h', 'x-amz-content-sha256:UNSIGNED-PAYLOAD', '', 'date;host;x-amz-content-sha256', 'UNSIGNED-PAYLOAD'].join('\n');
    const scope = '20261206/us-east-1/s3/aws4_request';
    const toSign = ['AWS4-HMAC-SHA256', '20261206T100000Z', scope, sha256Of(canonical)].join('\n');
    const signature = hmacOf(deriveKey('s3cr3t', '20261206', 'us-east-1'), toSign).toString('hex');
    const req: SignedRequest = {
      method: 'GET', rawPath: '/b/k', rawQuery: '',
      headers: {
        host: 'h', date, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        authorization: `AWS4-HMAC-SHA256 Credential=AK/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${signature}`,
      },
    };
    expect(verifySigV4(req, (k) => (k === 'AK' ? 's3cr3t' : undefined), T0)?.amzDate).toBe('20261206T100000Z');
  });

  it('takes x-amz-content-sha256 only with a value AWS allows, and checks a signature made without it against the empty payload', async () => {
    const signed = received(await signHeaders(get('/b/k'), T0));
    const { 'x-amz-content-sha256': _dropped, ...without } = signed.headers;
    // Signed with the header, sent without it: the canonical request differs.
    rejects(() => verifySigV4({ ...signed, headers: without }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4({ ...signed, headers: { ...signed.headers, 'x-amz-content-sha256': 'abc' } }, secrets, T0), 'InvalidArgument');
    // What curl 7.88 --aws-sigv4 sent for `-T x.txt` (captured): no x-amz-content-sha256, the empty
    // payload's hash signed; accepted, its body unsigned.
    const curlPut: SignedRequest = {
      method: 'PUT', rawPath: '/bucket/a%20b/x.txt', rawQuery: '',
      headers: {
        host: '127.0.0.1:18777', 'x-amz-date': '20261206T053059Z', 'content-length': '6',
        authorization: 'AWS4-HMAC-SHA256 Credential=AK/20261206/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=45835b9ce0f3a8fec1760481208561e6edc266cfb45fa605c18dff99d6198814',
      },
    };
    const ok = verifySigV4(curlPut, (id) => (id === 'AK' ? 'SECRET' : undefined), new Date('2026-12-06T05:31:00Z'));
    expect(ok?.payloadHash).toBe('UNSIGNED-PAYLOAD');
    rejects(() => verifySigV4(curlPut, (id) => (id === 'AK' ? 'OTHER' : undefined), new Date('2026-12-06T05:31:00Z')), 'SignatureDoesNotMatch');
  });

  it('reports a malformed Authorization header as AWS does', async () => {
    const signed = received(await signHeaders(get('/b/k'), T0));
    const auth = signed.headers.authorization!;
    const withAuth = (authorization: string): SignedRequest => ({ ...signed, headers: { ...signed.headers, authorization } });
    const malformed = (authorization: string): void => {
      const err = rejects(() => verifySigV4(withAuth(authorization), secrets, T0), 'AuthorizationHeaderMalformed');
      expect(err.status).toBe(400);
    };
    malformed(auth.replace('/s3/', '/ec2/'));
    malformed(auth.replace('/aws4_request', '/aws5_request'));
    malformed(auth.replace('20261206/', '2026120/'));
    malformed(auth.replace('20261206/', '20261205/'));
    malformed(auth.replace('SignedHeaders=host;', 'SignedHeaders='));
    malformed(auth.replace(/, Signature=[0-9a-f]+/, ''));
    malformed('AWS4-HMAC-SHA256');
    rejects(() => verifySigV4(withAuth('AWS AKID:c2lnbmF0dXJl'), secrets, T0), 'InvalidRequest');
    rejects(() => verifySigV4(withAuth('Bearer token'), secrets, T0), 'InvalidArgument');
    rejects(() => verifySigV4(withAuth(auth.replace(/Signature=[0-9a-f]+/, 'Signature=zz')), secrets, T0), 'SignatureDoesNotMatch');
  });
});

describe('presigned URLs, signed by the AWS SDK signer', () => {
  // As @aws-sdk/s3-request-presigner does: it sets x-amz-content-sha256 UNSIGNED-PAYLOAD, hoisted into the URL.
  const url = (path = '/bucket/photo (1).jpg'): SmithyRequest => ({
    method: 'GET',
    path: wirePath('bucket', path.slice('/bucket/'.length)),
    headers: { host: 'gw.example:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });

  it('accepts a URL until X-Amz-Date + X-Amz-Expires, then answers "Request has expired"', async () => {
    const signed = received(await presign(url(), T0, 3600));
    expect(signed.rawQuery).toContain('X-Amz-Signature=');
    const v = verifySigV4(signed, secrets, minutes(59));
    expect(v).toMatchObject({ accessKeyId: AKID, presigned: true, payloadHash: 'UNSIGNED-PAYLOAD' });
    const err = rejects(() => verifySigV4(signed, secrets, minutes(61)), 'AccessDenied', /^Request has expired$/);
    expect(err.status).toBe(403);
    // A URL is not good before it was signed (beyond the clock skew allowed).
    rejects(() => verifySigV4(signed, secrets, minutes(-16)), 'AccessDenied', /not valid yet/);
  });

  it('rejects a changed path, query parameter or expiry, and a wrong key', async () => {
    const signed = received(await presign(url(), T0, 3600));
    rejects(() => verifySigV4({ ...signed, rawPath: '/bucket/other.jpg' }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4({ ...signed, rawQuery: signed.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=7200') }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4({ ...signed, rawQuery: `${signed.rawQuery}&response-content-type=text%2Fhtml` }, secrets, T0), 'SignatureDoesNotMatch');
    rejects(() => verifySigV4(signed, () => undefined, T0), 'InvalidAccessKeyId');
    const wrong = received(await presign(url(), T0, 3600, s3Signer({ secret: 'wrong' })));
    rejects(() => verifySigV4(wrong, secrets, T0), 'SignatureDoesNotMatch');
  });

  it('signs extra query parameters and a hoisted x-amz-content-sha256', async () => {
    const req: SmithyRequest = {
      method: 'PUT', path: '/bucket/k', query: { partNumber: '3', uploadId: 'a+b/c=' },
      headers: { host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    };
    const signed = received(await presign(req, T0, 600));
    expect(signed.rawQuery).toMatch(/x-amz-content-sha256=UNSIGNED-PAYLOAD/i);
    expect(verifySigV4(signed, secrets, T0)?.payloadHash).toBe('UNSIGNED-PAYLOAD');
  });

  it('reports malformed query parameters as AuthorizationQueryParametersError', async () => {
    const signed = received(await presign(url(), T0, 3600));
    const withQuery = (rawQuery: string): SignedRequest => ({ ...signed, rawQuery });
    const bad = (rawQuery: string): void => {
      const err = rejects(() => verifySigV4(withQuery(rawQuery), secrets, T0), 'AuthorizationQueryParametersError');
      expect(err.status).toBe(400);
    };
    bad(signed.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=604801'));
    bad(signed.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=soon'));
    bad(signed.rawQuery.replace(/X-Amz-Date=[^&]+/, 'X-Amz-Date=2026-12-06'));
    bad(signed.rawQuery.replace(/&?X-Amz-SignedHeaders=[^&]+/, ''));
    bad(signed.rawQuery.replace('%2Fs3%2F', '%2Fiam%2F'));
  });
});

describe('anonymous and mixed requests', () => {
  it('answers undefined for a request with no authentication', () => {
    const req: SignedRequest = { method: 'GET', rawPath: '/bucket/k', rawQuery: 'prefix=a', headers: { host: 'h' } };
    expect(hasSigV4(req)).toBe(false);
    expect(verifySigV4(req, secrets, T0)).toBeUndefined();
  });

  it('refuses SigV2 query authentication and header plus query authentication together', async () => {
    const v2: SignedRequest = { method: 'GET', rawPath: '/b/k', rawQuery: 'AWSAccessKeyId=AK&Expires=1&Signature=x', headers: { host: 'h' } };
    expect(hasSigV4(v2)).toBe(true);
    rejects(() => verifySigV4(v2, secrets, T0), 'InvalidRequest');
    const signed = received(await signHeaders(get('/b/k'), T0));
    rejects(() => verifySigV4({ ...signed, rawQuery: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' }, secrets, T0), 'InvalidArgument');
  });
});
