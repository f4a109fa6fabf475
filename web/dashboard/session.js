// The gateway session: who is signed in, signing in with an access key, signing out. The
// gateway keeps the session in an HttpOnly cookie, so nothing secret is stored by the page.
import { ApiError, request } from './api.js';

/**
 * The caller as the gateway sees it: `{ accessKey, anonymous, readOnly }`, or null when the
 * gateway wants a sign-in first (it answers `signedIn: false`; older gateways answered 401).
 */
export async function whoami() {
  try {
    const who = await request('GET', '/api/whoami', { reportUnauthorized: false });
    return who.signedIn === false ? null : who;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/** Signs in; rejects with the gateway's ApiError (a 401 for a wrong key). */
export async function login(accessKey, secretKey) {
  await request('POST', '/api/login', { json: { accessKey, secretKey }, reportUnauthorized: false });
}

/** Ends the session. */
export async function logout() {
  await request('POST', '/api/logout', { reportUnauthorized: false });
}
