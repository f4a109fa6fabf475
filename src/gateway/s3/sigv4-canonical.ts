/**
 * The canonical request of AWS Signature Version 4 as S3 computes it: URI, query and headers in
 * AWS's encoding. Decoding works on bytes, never through decodeURIComponent, so a path or query
 * that is not valid UTF-8 (or has a stray '%') still has exactly one canonical form and never throws.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { percentDecode } from '../http/percent-decode.js';

/** One `key=value` piece of a query string as received, still percent-encoded. */
export interface RawQueryPair {
  key: string;
  value: string;
}

/** The pieces of a raw query string; a piece without '=' has an empty value, empty pieces are skipped. */
export function parseRawQuery(rawQuery: string): RawQueryPair[] {
  const pairs: RawQueryPair[] = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    pairs.push(eq < 0 ? { key: piece, value: '' } : { key: piece.slice(0, eq), value: piece.slice(eq + 1) });
  }
  return pairs;
}

/** A decoded query component as a string, for reading parameter values such as X-Amz-Credential. */
export function decodeComponent(text: string): string {
  return percentDecode(text).toString('utf8');
}

const unreserved = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~') unreserved[c.charCodeAt(0)] = 1;

/** AWS's URI encoding: unreserved characters kept, every other byte as %XX in upper case. */
export function uriEncode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    out += unreserved[b] ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The canonical URI S3 signs: each segment decoded then encoded once. S3 keeps `.` and `..`
 * segments and empty segments (a key may contain them), unlike other AWS services.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath.split('/').map((segment) => uriEncode(percentDecode(segment))).join('/');
}

const byKeyThenValue = (a: [string, string], b: [string, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;

const joinPairs = (pairs: [string, string][]): string =>
  pairs.sort(byKeyThenValue).map(([k, v]) => `${k}=${v}`).join('&');

/** The canonical query in AWS's form: pairs decoded, encoded again, sorted; `exclude` (decoded key) left out. */
export function canonicalQuery(pairs: readonly RawQueryPair[], exclude?: string): string {
  const encoded: [string, string][] = [];
  for (const { key, value } of pairs) {
    const keyBytes = percentDecode(key);
    if (exclude !== undefined && keyBytes.toString('utf8') === exclude) continue;
    encoded.push([uriEncode(keyBytes), uriEncode(percentDecode(value))]);
  }
  return joinPairs(encoded);
}

/**
 * The query as a client that signs what it sends would canonicalise it (curl's --aws-sigv4 in
 * 7.x): pairs as received, only sorted. Tried when the AWS form does not match.
 */
export function rawCanonicalQuery(pairs: readonly RawQueryPair[], exclude?: string): string {
  const raw: [string, string][] = [];
  for (const { key, value } of pairs) {
    if (exclude !== undefined && decodeComponent(key) === exclude) continue;
    raw.push([key, value]);
  }
  return joinPairs(raw);
}

/** The values of one header as separate strings, from `headersDistinct` when the server has it. */
export function headerValues(
  headers: IncomingHttpHeaders,
  name: string,
  distinct?: NodeJS.Dict<string[]>,
): string[] {
  const fromDistinct = distinct?.[name];
  if (fromDistinct !== undefined) return fromDistinct;
  const value = headers[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * The canonical header block: `name:value\n` per signed header, in the order SignedHeaders gives,
 * values trimmed with inner runs of blanks made one space, repeats joined by ','.
 */
export function canonicalHeaders(
  signedHeaders: readonly string[],
  valuesOf: (name: string) => string[],
): string {
  let block = '';
  for (const name of signedHeaders) {
    const values = valuesOf(name).map((v) => v.trim().replace(/[ \t]+/g, ' '));
    block += `${name}:${values.join(',')}\n`;
  }
  return block;
}

/** The six lines a request signature covers. `headerBlock` already ends with a newline. */
export function canonicalRequest(
  method: string,
  uri: string,
  query: string,
  headerBlock: string,
  signedHeadersText: string,
  payloadHash: string,
): string {
  return `${method}\n${uri}\n${query}\n${headerBlock}\n${signedHeadersText}\n${payloadHash}`;
}
