/**
 * The Range header of a GET (RFC 9110 §14): one `bytes=` range is served as 206; several ranges,
 * other units or a malformed header are ignored (the whole file, 200), as the RFC allows; a range
 * that starts at or past the end is 416 with `Content-Range: bytes * /size`.
 */
import { HttpError } from './http-error.js';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * The Range to honour: none when If-Range names another version than the current one (an ETag
 * that differs, or a date other than the file's mtime), so a resumed download never splices two
 * versions (RFC 9110 §13.1.5).
 */
export function rangeHeader(headers: Record<string, string | string[] | undefined>, etag: string, mtimeMs: number): string | undefined {
  const range = headers.range;
  const ifRange = headers['if-range'];
  if (typeof range !== 'string') return undefined;
  if (typeof ifRange !== 'string') return range;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === etag ? range : undefined;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && Math.floor(mtimeMs / 1000) * 1000 === date ? range : undefined;
}

/** The range to serve of a file of `size` bytes; undefined means the whole file. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = (): HttpError => new HttpError(416, 'bad-range', `range '${header}' is outside the ${size} bytes of the file`, { 'content-range': `bytes */${size}` });
  if (m[1] === '') {
    // The last N bytes.
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n)) return undefined;
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return undefined;
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // invalid: ignored
  if (start >= size) throw unsatisfiable();
  return { start, end };
}
