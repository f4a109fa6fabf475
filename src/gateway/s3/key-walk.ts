/**
 * The keys of a bucket in S3's order (UTF-8 byte order of the whole key), from its directory tree.
 * A directory's children are visited sorted as their keys sort: a subdirectory `d` as `d/`, so that
 * `a-c` (0x2D) comes before everything under `a/` (0x2F). Only the directory the prefix ends in is
 * listed from the start, and a subtree whose keys all sort at or before `startAfter` is never
 * entered. Regular files are objects; an empty directory is a directory marker `d/`; symlinks and
 * other types are not listed.
 */
import type { FstClient } from '../../client/fst-client.js';
import type { DirEntryInfo } from '../../client/tree-ops.js';
import { toFsError } from '../../common/errors/to-errno.js';

export interface KeyItem {
  key: string;
  /** Set for objects; a directory marker has size 0 and its directory's times. */
  entry: DirEntryInfo;
  /** The key names a directory (marker). */
  dir: boolean;
}

/** Compares strings by their UTF-8 bytes (JS compares UTF-16 units, which differs above U+D7FF). */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral characters, 4 UTF-8 bytes) sort after U+E000-U+FFFF (3 bytes) in UTF-8.
    const sx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const sy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return sx - sy;
  }
  return a.length - b.length;
}

async function listAll(client: FstClient, path: string): Promise<DirEntryInfo[] | undefined> {
  try {
    return await client.readdir(path, { withAttrs: true });
  } catch (e) {
    const code = toFsError(e).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Keys of bucket directory `bucketPath` that start with `prefix` and sort after `startAfter`, in
 * order. With `skipBelow`, a directory whose key (`d/`) already marks where a delimiter groups
 * keys is yielded as one item and not entered.
 */
export async function* walkKeys(client: FstClient, bucketPath: string, prefix: string, startAfter: string, skipBelow?: (dirKey: string) => boolean): AsyncGenerator<KeyItem> {
  const cut = prefix.lastIndexOf('/');
  const base = cut < 0 ? '' : prefix.slice(0, cut + 1);
  const namePrefix = prefix.slice(base.length);
  yield* walkDir(client, base === '' ? bucketPath : `${bucketPath}/${base.slice(0, -1)}`, base, namePrefix, startAfter, skipBelow);
}

async function* walkDir(client: FstClient, path: string, keyBase: string, namePrefix: string, startAfter: string, skipBelow: ((dirKey: string) => boolean) | undefined): AsyncGenerator<KeyItem> {
  const entries = await listAll(client, path);
  if (!entries) return;
  const children = entries
    .filter((e) => e.name.startsWith(namePrefix) && (e.kind === 'file' || e.kind === 'directory'))
    .map((e) => ({ e, sortKey: keyBase + e.name + (e.kind === 'directory' ? '/' : '') }))
    .sort((a, b) => compareUtf8(a.sortKey, b.sortKey));
  for (const { e, sortKey } of children) {
    if (e.kind === 'file') {
      if (compareUtf8(sortKey, startAfter) > 0) yield { key: sortKey, entry: e, dir: false };
      continue;
    }
    // Every key below starts with sortKey: skip the subtree when all of them are <= startAfter.
    const within = startAfter.startsWith(sortKey);
    if (!within && compareUtf8(sortKey, startAfter) < 0) continue;
    if (skipBelow?.(sortKey)) {
      if (!within) yield { key: sortKey, entry: e, dir: true };
      continue;
    }
    let any = false;
    for await (const item of walkDir(client, `${path}/${e.name}`, sortKey, '', startAfter, skipBelow)) {
      any = true;
      yield item;
    }
    if (!any && !within && (await isEmpty(client, `${path}/${e.name}`))) yield { key: sortKey, entry: e, dir: true };
  }
}

async function isEmpty(client: FstClient, path: string): Promise<boolean> {
  const page = await client.readdirPage(path, { limit: 1 }).catch((e: unknown) => {
    if (toFsError(e).code === 'ENOENT') return undefined; // removed meanwhile: no marker
    throw e;
  });
  return page !== undefined && page.entries.length === 0;
}
