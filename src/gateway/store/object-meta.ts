/**
 * What the HTTP APIs record about a file beyond POSIX: its content type and S3 user metadata,
 * in one extended attribute (`user.fst.object`, JSON) with the size and mtime the file had then: a
 * file changed afterwards by anyone (a mount, `fst`) no longer matches, and its record is ignored.
 *
 * ETags are derived from the inode, size and mtime (as web servers derive theirs from a file's
 * stat), never an MD5 of the content: they change whenever the content may have, the same in a
 * listing as in a GET (no attribute to read per file), and hashing every byte on the way in would
 * cost the gateway a CPU-second per GiB. They end in "-fst" so no client takes them for an MD5.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { FileStat } from '../../client/file-stat.js';
import { contentTypeOf } from '../http/content-type.js';

export const OBJECT_XATTR = 'user.fst.object';

export interface ObjectMeta {
  contentType?: string;
  /** S3 `x-amz-meta-*` headers, names lower case without the prefix. */
  userMeta?: Record<string, string>;
  /** The file's size and mtime ("sec.nsec") when this was recorded. */
  size: number;
  mtime: string;
}

const mtimeKey = (st: FileStat): string => `${st.mtime.sec}.${st.mtime.nsec}`;

export function objectMetaFor(st: FileStat, m: Omit<ObjectMeta, 'size' | 'mtime'>): ObjectMeta {
  return { ...m, size: st.size, mtime: mtimeKey(st) };
}

export function encodeObjectMeta(m: ObjectMeta): Buffer {
  return Buffer.from(JSON.stringify(m));
}

/** The record if it still describes the file as it is (`st`); undefined otherwise. */
export function decodeObjectMeta(raw: Buffer | undefined, st: FileStat): ObjectMeta | undefined {
  if (!raw) return undefined;
  try {
    const m = JSON.parse(raw.toString('utf8')) as ObjectMeta;
    if (typeof m !== 'object' || m === null || m.size !== st.size || m.mtime !== mtimeKey(st)) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/** The quoted ETag of a file. */
export function etagOf(st: FileStat): string {
  const h = createHash('sha1').update(`${st.ino}:${st.size}:${mtimeKey(st)}`).digest('hex').slice(0, 24);
  return `"${h}-fst"`;
}

/**
 * What to record for an upload of `path` with these headers' values; undefined when nothing is worth
 * an attribute (no metadata, and the type is what the name would give anyway).
 */
export function metaToRecord(path: string, contentType: string | undefined, userMeta?: Record<string, string>): Omit<ObjectMeta, 'size' | 'mtime'> | undefined {
  const type = contentType && contentType !== contentTypeOf(posix.basename(path)) ? contentType : undefined;
  const hasMeta = userMeta !== undefined && Object.keys(userMeta).length > 0;
  if (!type && !hasMeta) return undefined;
  return { ...(type ? { contentType: type } : {}), ...(hasMeta ? { userMeta } : {}) };
}
