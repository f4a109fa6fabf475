/**
 * Paths in URLs to FST paths. Each segment is percent-decoded on its own (so `%2F` cannot smuggle a
 * separator in), and a path is refused (400) when a segment is `.` or `..`, holds a NUL, is not
 * valid UTF-8 or is longer than a name may be: the gateway never resolves such paths, so a request
 * can never name something outside what its URL plainly says. Empty segments (`a//b`) are dropped.
 */
import { NAME_MAX } from '../../common/ids.js';
import { HttpError } from './http-error.js';
import { percentDecode } from './percent-decode.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeSegment(raw: string): string {
  let bytes: Buffer;
  try {
    // Decoded to bytes first, then checked as UTF-8: decodeURIComponent would hide which failed.
    bytes = percentDecode(raw, true);
  } catch {
    throw new HttpError(400, 'bad-path', `malformed percent-encoding in '${raw.slice(0, 64)}'`);
  }
  let name: string;
  try {
    name = utf8.decode(bytes);
  } catch {
    throw new HttpError(400, 'bad-path', 'path is not valid UTF-8');
  }
  if (name.includes('\0')) throw new HttpError(400, 'bad-path', 'path contains a NUL byte');
  if (name === '.' || name === '..') throw new HttpError(400, 'bad-path', `path segment '${name}' is not allowed`);
  if (bytes.length > NAME_MAX) throw new HttpError(400, 'ENAMETOOLONG', `path segment '${name.slice(0, 32)}...' is longer than ${NAME_MAX} bytes`);
  return name;
}

/** The names of a raw URL path (no query): "/a/b%20c/" -> ["a", "b c"]. */
export function decodePathSegments(rawPath: string): string[] {
  return rawPath.split('/').filter((s) => s !== '').map(decodeSegment);
}

/** An FST path from names: ["a", "b"] -> "/a/b"; [] -> "/". */
export function fstPath(names: readonly string[]): string {
  return '/' + names.join('/');
}

/** Encodes an FST path for a URL, segment by segment. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
