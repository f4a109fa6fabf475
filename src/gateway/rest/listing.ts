/**
 * `GET /files/<dir>/?list`: one page of a directory as JSON, names in byte order:
 * `{ path, entries: [{ name, type, size, mtime }], next }`. `limit` (1-10,000, default 1,000) bounds
 * a page; `next` is the token to pass as `after` for the next one (null at the end); `prefix`
 * keeps only names that start with it. The gateway's staging directory is not listed.
 */
import type { FstClient } from '../../client/fst-client.js';
import type { DirEntryInfo } from '../../client/tree-ops.js';
import { HttpError } from '../http/http-error.js';
import { STAGING_DIR } from '../store/staging.js';

export interface ListedEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mtime: string;
}

const TYPES: Partial<Record<string, ListedEntry['type']>> = { file: 'file', directory: 'dir', symlink: 'symlink' };

/** The largest string below `s` that any name starting with `s` comes after (a readdir `after`). */
export function justBefore(s: string): string {
  const cps = [...s];
  const last = cps.pop()!.codePointAt(0)!;
  return cps.join('') + (last > 1 ? String.fromCodePoint(last - 1) + '\u{10FFFF}' : '');
}

function toListed(e: DirEntryInfo): ListedEntry {
  return { name: e.name, type: TYPES[e.kind] ?? 'other', size: e.stat?.size ?? 0, mtime: new Date(e.stat?.mtimeMs ?? 0).toISOString() };
}

export async function listDirectory(client: FstClient, path: string, q: URLSearchParams): Promise<{ path: string; entries: ListedEntry[]; next: string | null }> {
  const limit = q.has('limit') ? Number(q.get('limit')) : 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new HttpError(400, 'bad-limit', 'limit must be an integer from 1 to 10000');
  const prefix = q.get('prefix') ?? '';
  let after = q.get('after') ?? '';
  if (prefix !== '' && after < prefix) after = justBefore(prefix);
  const entries: ListedEntry[] = [];
  let last = '';
  for (;;) {
    const page = await client.readdirPage(path, { after, limit: limit - entries.length + 1, withAttrs: true });
    for (const e of page.entries) {
      if (prefix !== '' && !e.name.startsWith(prefix)) {
        if (e.name > prefix) return { path, entries, next: null };
        continue;
      }
      if (path === '/' && `/${e.name}` === STAGING_DIR) continue;
      if (entries.length === limit) return { path, entries, next: last };
      entries.push(toListed(e));
      last = e.name;
    }
    if (!page.more || page.entries.length === 0) return { path, entries, next: null };
    after = page.entries[page.entries.length - 1]!.name;
  }
}
