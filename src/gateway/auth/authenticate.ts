/**
 * Who a request is, in one place: an AWS Signature V4 (header or presigned URL), HTTP Basic with
 * an access key id and its secret (`curl -u`), the dashboard's session cookie, or nobody. Each
 * access key acts in the cluster as its credential and caller (access-keys.ts); nobody is allowed
 * only as far as the gateway's `anonymous` setting says (none, read, write), acting as the
 * gateway's own credential and the `anonymous-caller`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClientPool, ClusterAccess } from '../client-pool.js';
import { HttpError } from '../http/http-error.js';
import { S3Error } from '../s3/s3-error.js';
import { hasSigV4, verifySigV4, type SignedRequest, type VerifiedSignature } from '../s3/sigv4.js';
import type { AccessKey } from './access-keys.js';
import type { SessionCookies } from './session-cookie.js';

export type AnonymousAccess = 'none' | 'read' | 'write';

export interface Principal {
  /** The access key; undefined for anonymous requests. */
  key: AccessKey | undefined;
  /** Changes are refused at the gateway (a read-only key, or anonymous read access). */
  readOnly: boolean;
  /** The connection acting for it. */
  access: ClusterAccess;
  /** How it signed, for requests with SigV4 (chunk signatures of the body chain from it). */
  signature?: VerifiedSignature;
  /** How it proved itself. */
  via: 'sigv4' | 'basic' | 'cookie' | 'anonymous';
}

/** Where the request came in: path and query as sent (still percent-encoded). */
export interface RawTarget {
  rawPath: string;
  rawQuery: string;
}

export interface AuthenticatorOptions {
  keys: ReadonlyMap<string, AccessKey>;
  cookies: SessionCookies;
  anonymous: AnonymousAccess;
  anonymousCaller: { uid: number; gid: number };
  pool: ClientPool;
}

function signedRequest(req: IncomingMessage, t: RawTarget): SignedRequest {
  return { method: req.method ?? 'GET', rawPath: t.rawPath, rawQuery: t.rawQuery, headers: req.headers, headersDistinct: req.headersDistinct };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Authenticator {
  constructor(private readonly o: AuthenticatorOptions) {}

  get keys(): ReadonlyMap<string, AccessKey> {
    return this.o.keys;
  }

  /** Whether the request carries an S3 signature (it is then an S3 request, whatever its path). */
  signedForS3(req: IncomingMessage, t: RawTarget): boolean {
    // HTTP Basic is the REST API's; any other Authorization (AWS's, or a broken one) is S3's to judge.
    if (req.headers.authorization?.startsWith('Basic ')) return false;
    return hasSigV4(signedRequest(req, t));
  }

  /** The principal of an S3 request; throws S3Error. */
  async s3(req: IncomingMessage, t: RawTarget): Promise<Principal> {
    const sig = verifySigV4(signedRequest(req, t), (id) => this.o.keys.get(id)?.secret, new Date());
    if (!sig) {
      if (this.o.anonymous === 'none') throw new S3Error('AccessDenied', 'anonymous access is not allowed: sign the request');
      return this.anonymous();
    }
    const key = this.o.keys.get(sig.accessKeyId)!;
    return { ...(await this.forKey(key, 'sigv4')), signature: sig };
  }

  /** The principal of a REST or dashboard request; throws HttpError 401 when it must sign in. */
  async http(req: IncomingMessage): Promise<Principal> {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [id, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      const key = this.o.keys.get(id ?? '');
      if (!key || !sameSecret(rest.join(':'), key.secret)) throw new HttpError(401, 'unauthenticated', 'wrong access key or secret');
      return this.forKey(key, 'basic');
    }
    const fromCookie = this.o.cookies.verify(req.headers.cookie);
    const key = fromCookie === undefined ? undefined : this.o.keys.get(fromCookie);
    if (key) return this.forKey(key, 'cookie');
    if (this.o.anonymous === 'none') throw new HttpError(401, 'unauthenticated', 'sign in: an access key and its secret (HTTP Basic), or the dashboard');
    return this.anonymous();
  }

  /** The key a sign-in form names, if its secret is right. */
  signIn(accessKeyId: string, secret: string): AccessKey | undefined {
    const key = this.o.keys.get(accessKeyId);
    return key && sameSecret(secret, key.secret) ? key : undefined;
  }

  private async forKey(key: AccessKey, via: Principal['via']): Promise<Principal> {
    return { key, readOnly: key.readOnly, access: await this.o.pool.get(key.credentials, key.uid, key.gid), via };
  }

  private async anonymous(): Promise<Principal> {
    const { uid, gid } = this.o.anonymousCaller;
    return { key: undefined, readOnly: this.o.anonymous !== 'write', access: await this.o.pool.get(undefined, uid, gid), via: 'anonymous' };
  }
}
