/**
 * The dashboard's own API under /api/: sign-in (login, logout, whoami: the session cookie,
 * auth/session-cookie.ts) and the cluster status (status/cluster-status.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from './auth/authenticate.js';
import type { SessionCookies } from './auth/session-cookie.js';
import { HttpError, toHttpError } from './http/http-error.js';
import { sendJson } from './http/respond.js';
import { readSmallBody } from './http/small-body.js';
import type { ClusterStatusPoller } from './status/cluster-status.js';

export interface DashboardApi {
  auth: Authenticator;
  cookies: SessionCookies;
  status: ClusterStatusPoller;
  /** Whether the gateway serves HTTPS (cookies are then marked Secure). */
  secure: boolean;
}

export async function handleApi(d: DashboardApi, req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
  const method = req.method ?? 'GET';
  const want = (m: string): void => {
    if (method !== m) throw new HttpError(405, 'bad-method', `${route} takes ${m}`, { allow: m });
  };
  switch (route) {
    case 'login': {
      want('POST');
      let body: { accessKey?: unknown; secretKey?: unknown };
      try {
        body = JSON.parse((await readSmallBody(req, 16 * 1024)).toString('utf8')) as typeof body;
      } catch (e) {
        if (e instanceof HttpError) throw e;
        throw new HttpError(400, 'bad-json', 'the body must be JSON: {"accessKey": "...", "secretKey": "..."}');
      }
      const key = typeof body.accessKey === 'string' && typeof body.secretKey === 'string' ? d.auth.signIn(body.accessKey, body.secretKey) : undefined;
      if (!key) throw new HttpError(401, 'unauthenticated', 'wrong access key or secret');
      // Secure also behind a proxy that ends TLS and says so.
      const secure = d.secure || req.headers['x-forwarded-proto'] === 'https';
      return sendJson(res, 200, { accessKey: key.id, anonymous: false, readOnly: key.readOnly }, { 'set-cookie': d.cookies.issue(key.id, secure) });
    }
    case 'logout':
      want('POST');
      return sendJson(res, 200, { signedOut: true }, { 'set-cookie': d.cookies.clear() });
    case 'whoami': {
      want('GET');
      // "Not signed in" is an answer here, not a failure (a 401 would be a console error in the page).
      const p = await d.auth.http(req).catch((e: unknown) => {
        if (e instanceof HttpError && e.status === 401) return undefined;
        throw e;
      });
      if (!p) return sendJson(res, 200, { signedIn: false, accessKey: null, anonymous: false, readOnly: true });
      return sendJson(res, 200, { signedIn: true, accessKey: p.key?.id ?? null, anonymous: p.key === undefined, readOnly: p.readOnly });
    }
    case 'status': {
      want('GET');
      await d.auth.http(req);
      try {
        return sendJson(res, 200, await d.status.get());
      } catch (e) {
        const err = toHttpError(e);
        return sendJson(res, 503, { error: err.message, code: err.code });
      }
    }
    default:
      throw new HttpError(404, 'ENOENT', `no API /api/${route}`);
  }
}
