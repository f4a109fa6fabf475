/**
 * Conditional requests (RFC 9110 §13): If-Match / If-Unmodified-Since guard changes and reads
 * (412 when they fail), If-None-Match / If-Modified-Since make a GET or HEAD answer 304 when the
 * client's copy is current. If-None-Match wins over If-Modified-Since, If-Match over
 * If-Unmodified-Since, as the RFC orders them. HTTP dates have whole seconds, so times are compared
 * at that precision.
 */
export type Precondition = 'proceed' | 'not-modified' | 'failed';

export interface Validators {
  /** The current ETag, quoted; undefined when the resource does not exist. */
  etag: string | undefined;
  mtimeMs: number | undefined;
}

function listMatches(header: string, etag: string | undefined, weak: boolean): boolean {
  if (etag === undefined) return false;
  if (header.trim() === '*') return true;
  const bare = (t: string): string => (weak ? t.replace(/^W\//, '') : t);
  return header.split(',').map((t) => t.trim()).some((t) => t !== '' && bare(t) === bare(etag));
}

function parseDate(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const t = Date.parse(header);
  return Number.isNaN(t) ? undefined : t;
}

export function evaluatePreconditions(headers: Record<string, string | string[] | undefined>, v: Validators, method: string): Precondition {
  const h = (name: string): string | undefined => {
    const x = headers[name];
    return Array.isArray(x) ? x.join(',') : x;
  };
  const seconds = v.mtimeMs === undefined ? undefined : Math.floor(v.mtimeMs / 1000) * 1000;
  const ifMatch = h('if-match');
  if (ifMatch !== undefined) {
    if (!listMatches(ifMatch, v.etag, false)) return 'failed';
  } else {
    const since = parseDate(h('if-unmodified-since'));
    if (since !== undefined && seconds !== undefined && seconds > since) return 'failed';
  }
  const readOnly = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = h('if-none-match');
  if (ifNoneMatch !== undefined) {
    if (listMatches(ifNoneMatch, v.etag, true)) return readOnly ? 'not-modified' : 'failed';
    return 'proceed';
  }
  const modifiedSince = parseDate(h('if-modified-since'));
  if (readOnly && modifiedSince !== undefined && seconds !== undefined && seconds <= modifiedSince) return 'not-modified';
  return 'proceed';
}
