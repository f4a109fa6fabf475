/**
 * ListObjectsV2 (`list-type=2`) and ListObjects (v1): the keys of a bucket in order
 * (key-walk.ts), with prefix, delimiter (common prefixes), max-keys (at most 1,000), paging by
 * continuation token / start-after (v2) or marker (v1), and `encoding-type=url`. A continuation
 * token is the last key or common prefix returned, marked which (so a common prefix is never
 * answered twice), in base64url.
 */
import { etagOf } from '../store/object-meta.js';
import { walkKeys } from './key-walk.js';
import { S3Error } from './s3-error.js';
import { checkBucket, client, objectPath, sendXml, type S3Request } from './s3-request.js';
import { OWNER } from './buckets.js';

const MAX_KEYS = 1000;

interface Position {
  after: string;
  /** `after` is a common prefix: skip every key that starts with it. */
  prefix: boolean;
}

function encodeToken(p: Position): string {
  return Buffer.from(`${p.prefix ? 'P' : 'K'}${p.after}`, 'utf8').toString('base64url');
}

function decodeToken(t: string): Position {
  const s = Buffer.from(t, 'base64url').toString('utf8');
  if (!/^[PK]/.test(s)) throw new S3Error('InvalidArgument', 'the continuation token is not one this gateway gave');
  return { after: s.slice(1), prefix: s[0] === 'P' };
}

export async function listObjects(r: S3Request): Promise<void> {
  await checkBucket(r);
  const v2 = r.query.get('list-type') === '2';
  const prefix = r.query.get('prefix') ?? '';
  const delimiter = r.query.get('delimiter') ?? '';
  const maxKeysParam = r.query.get('max-keys');
  const maxKeys = maxKeysParam === null ? MAX_KEYS : Number(maxKeysParam);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new S3Error('InvalidArgument', 'max-keys must be a non-negative integer');
  const limit = Math.min(maxKeys, MAX_KEYS);
  const urlEncode = r.query.get('encoding-type') === 'url';
  if (r.query.has('encoding-type') && !urlEncode) throw new S3Error('InvalidArgument', "encoding-type must be 'url'");
  const enc = (s: string): string => (urlEncode ? encodeURIComponent(s).replace(/%2F/g, '/') : s);

  const token = v2 ? r.query.get('continuation-token') : null;
  const startAfter = (v2 ? r.query.get('start-after') : r.query.get('marker')) ?? '';
  let pos: Position = token ? decodeToken(token) : { after: startAfter, prefix: false };
  if (token && startAfter > pos.after) pos = { after: startAfter, prefix: false };

  const contents: Record<string, unknown>[] = [];
  const commonPrefixes: { Prefix: string }[] = [];
  let last: Position | undefined;
  let truncated = false;
  const skipBelow = delimiter === '/' ? (dirKey: string) => dirKey.length > prefix.length : undefined;
  for await (const item of walkKeys(client(r), objectPath(r, ''), prefix, pos.after, skipBelow)) {
    if (pos.prefix && item.key.startsWith(pos.after)) continue;
    let cp: string | undefined;
    if (delimiter !== '') {
      const rest = item.key.slice(prefix.length);
      const at = rest.indexOf(delimiter);
      if (at >= 0) cp = prefix + rest.slice(0, at + delimiter.length);
    }
    if (cp !== undefined && last?.prefix && last.after === cp) continue;
    if (contents.length + commonPrefixes.length >= limit) {
      truncated = true;
      break;
    }
    if (cp !== undefined) {
      commonPrefixes.push({ Prefix: enc(cp) });
      last = { after: cp, prefix: true };
    } else {
      const st = item.entry.stat;
      contents.push({
        Key: enc(item.key), LastModified: new Date(st?.mtimeMs ?? 0).toISOString(), ETag: st ? etagOf(st) : '""',
        Size: item.dir ? 0 : (st?.size ?? 0), StorageClass: 'STANDARD', ...(v2 ? {} : { Owner: OWNER }),
      });
      last = { after: item.key, prefix: false };
    }
  }
  const common = {
    Name: r.bucket, Prefix: enc(prefix), ...(delimiter !== '' ? { Delimiter: enc(delimiter) } : {}), MaxKeys: maxKeys,
    ...(urlEncode ? { EncodingType: 'url' } : {}), IsTruncated: truncated,
  };
  if (v2) {
    sendXml(r, 200, 'ListBucketResult', {
      ...common, KeyCount: contents.length + commonPrefixes.length,
      ...(token ? { ContinuationToken: token } : {}), ...(startAfter !== '' ? { StartAfter: enc(startAfter) } : {}),
      ...(truncated && last ? { NextContinuationToken: encodeToken(last) } : {}),
      Contents: contents, CommonPrefixes: commonPrefixes,
    });
  } else {
    sendXml(r, 200, 'ListBucketResult', {
      ...common, Marker: enc(startAfter), ...(truncated && last && delimiter !== '' ? { NextMarker: enc(last.after) } : {}),
      Contents: contents, CommonPrefixes: commonPrefixes,
    });
  }
}
