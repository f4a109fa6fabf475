// The one place that talks HTTP to the gateway with fetch (uploads use XMLHttpRequest for their
// progress events, see uploads.js, but share the error handling here). Every failure becomes an
// ApiError carrying the HTTP status and the gateway's errno code, and any 401 is reported to
// the single handler app.js installs, which brings back the sign-in form.
/* global fetch, AbortSignal */

const DEFAULT_TIMEOUT_MS = 15_000;

/** A failed gateway call: `status` is the HTTP status (0 when no answer came), `code` the errno name. */
export class ApiError extends Error {
  constructor(message, { status, code = null, cause } = {}) {
    super(message, { cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let unauthorizedHandler = () => {};

/** Installs the handler called whenever the gateway answers 401 (the session ended). */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/** Reports a 401 to the installed handler. */
export function notifyUnauthorized(error) {
  unauthorizedHandler(error);
}

/** The ApiError for an error answer, whose body is `{ "error": "...", "code": "ENOENT" }` when the gateway wrote it. */
export function errorFromResponse(status, statusText, bodyText) {
  let message = '';
  let code = null;
  try {
    const body = JSON.parse(bodyText);
    if (body && typeof body.error === 'string') message = body.error;
    if (body && typeof body.code === 'string') code = body.code;
  } catch {
    // Not JSON (a proxy's HTML page, say): fall back on the status line below.
  }
  if (message === '') message = `${status} ${statusText ?? ''}`.trim();
  return new ApiError(message, { status, code });
}

/** True for an error raised because the caller aborted the request (not a failure to show). */
export function isAbort(error) {
  return error instanceof Error && error.name === 'AbortError';
}

/**
 * Sends a request and answers with the parsed JSON body (null when empty).
 * Options: `json` (a body to send as JSON), `signal` (to abort), `timeoutMs`, and
 * `reportUnauthorized` (default true; false where a 401 is an expected answer, as on sign-in).
 */
export async function request(method, url, options = {}) {
  const { json, signal, timeoutMs = DEFAULT_TIMEOUT_MS, reportUnauthorized = true } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }

  let response;
  let text;
  try {
    response = await fetch(url, init);
    text = await response.text();
  } catch (cause) {
    if (signal?.aborted) throw cause;
    const message = timeout.aborted ? 'The gateway did not answer in time.' : 'Cannot reach the gateway.';
    throw new ApiError(message, { status: 0, cause });
  }

  if (!response.ok) {
    const error = errorFromResponse(response.status, response.statusText, text);
    if (response.status === 401 && reportUnauthorized) notifyUnauthorized(error);
    throw error;
  }
  return parseBody(text);
}

/** JSON when the body is JSON, else the text itself (a 200 to a mutation may carry no JSON). */
function parseBody(text) {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** GET a JSON document. */
export function getJson(url, options) {
  return request('GET', url, options);
}
