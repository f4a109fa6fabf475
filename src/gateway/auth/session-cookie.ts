/**
 * The dashboard's sign-in: after POST /api/login with a valid access key and secret, the browser
 * holds an HttpOnly, SameSite=Strict cookie naming the key and an expiry, signed with a key
 * derived from every access key's secret. So gateways sharing one keys file accept each other's
 * cookies (behind a load balancer), a cookie outlives gateway restarts, and changing the keys
 * file (or a secret) ends every session.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AccessKey } from './access-keys.js';

export const SESSION_COOKIE = 'fst_session';
const LIFETIME_MS = 12 * 3600 * 1000;

export class SessionCookies {
  private readonly key: Buffer;

  constructor(keys: ReadonlyMap<string, AccessKey>) {
    const h = createHash('sha256').update('fst-gateway-session-v1');
    for (const k of [...keys.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) h.update(`\n${k.id}\n${k.secret}`);
    this.key = h.digest();
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  /** The Set-Cookie value for a signed-in key. */
  issue(accessKeyId: string, secure: boolean, now = Date.now()): string {
    const payload = Buffer.from(JSON.stringify({ k: accessKeyId, e: now + LIFETIME_MS })).toString('base64url');
    return `${SESSION_COOKIE}=${payload}.${this.sign(payload)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${LIFETIME_MS / 1000}${secure ? '; Secure' : ''}`;
  }

  /** The Set-Cookie value that signs out. */
  clear(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  /** The access key id a Cookie header signs in as, if its session cookie is genuine and current. */
  verify(cookieHeader: string | undefined, now = Date.now()): string | undefined {
    if (!cookieHeader) return undefined;
    const raw = cookieHeader.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    const value = raw?.slice(SESSION_COOKIE.length + 1) ?? '';
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const want = Buffer.from(this.sign(payload), 'base64url');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
    try {
      const p = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { k?: unknown; e?: unknown };
      if (typeof p.k !== 'string' || typeof p.e !== 'number' || p.e < now) return undefined;
      return p.k;
    } catch {
      return undefined;
    }
  }
}
