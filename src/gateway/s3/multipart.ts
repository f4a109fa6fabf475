/**
 * S3 multipart uploads (upload-store.ts keeps them). Parts are written where they will end up
 * whenever that is known when they arrive: the first part 1 at 0, fixing the part size P for good,
 * and part N at (N-1) x P if it is no larger than P (part 1 again only with size P) (every part but the last has the same size with every common
 * client). Completing such an upload truncates `data` to the total and renames it into place: no
 * byte is copied again. A part that arrives before part 1, or is larger than P, goes to a file of
 * its own, and only such parts (or every part, when the sizes turn out uneven) are copied at
 * completion.
 */
import type { FileStat } from '../../client/file-stat.js';
import { filePieces } from '../../client/file-pieces.js';
import { requestBody } from '../http/request-body.js';
import { readSmallBody } from '../http/small-body.js';
import type { ClusterAccess } from '../client-pool.js';
import { encodeObjectMeta, etagOf, metaToRecord, objectMetaFor, OBJECT_XATTR } from '../store/object-meta.js';
import { commitStaged, writeStaged } from '../store/put-file.js';
import { bodyChecks } from './body-check.js';
import { S3Error } from './s3-error.js';
import { checkBucket, client, mustWrite, objectPath, sendEmpty, sendXml, userMetaOf, type S3Request } from './s3-request.js';
import { UploadStore, type PartRecord } from './upload-store.js';
import { parseCompleteMultipartUpload } from './xml.js';
import { OWNER } from './buckets.js';

const MIN_PART = 5 * 1024 * 1024;
const MAX_PART_NUMBER = 10_000;
const stores = new WeakMap<ClusterAccess, UploadStore>();

function storeOf(r: S3Request): UploadStore {
  let s = stores.get(r.principal.access);
  if (!s) stores.set(r.principal.access, (s = new UploadStore(r.principal.access)));
  return s;
}

export async function createUpload(r: S3Request): Promise<void> {
  mustWrite(r);
  await checkBucket(r);
  if (r.key.endsWith('/')) throw new S3Error('InvalidArgument', 'a key ending in "/" names a directory');
  const meta = metaToRecord(objectPath(r), r.req.headers['content-type'], userMetaOf(r.req));
  const id = await storeOf(r).create({ bucket: r.bucket, key: r.key, ...meta, initiated: Date.now() });
  sendXml(r, 200, 'InitiateMultipartUploadResult', { Bucket: r.bucket, Key: r.key, UploadId: id });
}

/** The part's length as the client announced it (aws-chunked bodies say it apart). */
function announcedLength(r: S3Request): number | undefined {
  const h = r.req.headers['x-amz-decoded-content-length'] ?? r.req.headers['content-length'];
  const n = Number(h);
  return h !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export async function uploadPart(r: S3Request, id: string): Promise<void> {
  mustWrite(r);
  const store = storeOf(r);
  await store.get(id, r.bucket, r.key);
  const n = Number(r.query.get('partNumber'));
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) throw new S3Error('InvalidArgument', `partNumber must be an integer from 1 to ${MAX_PART_NUMBER}`);
  const size = announcedLength(r);
  let at: number | null = null;
  if (size !== undefined) {
    // P is fixed by the first part 1 and never changes: a part 1 sent again with another size, or
    // a gateway that learned P earlier, can then never put bytes over another part's.
    const p = await store.partSize(id);
    if (n === 1 && p === undefined) {
      await store.setPartSize(id, size);
      at = 0;
    } else if (p !== undefined && (n === 1 ? size === p : size <= p)) {
      at = (n - 1) * p;
    }
  }
  const c = client(r);
  const path = at === null ? store.sidePath(id, n) : store.dataPath(id);
  // The part's old record goes first: its bytes are about to be overwritten.
  await store.forgetPart(id, n);
  const h = await c.open(path, { create: at === null, truncate: at === null, write: true }, 0o600);
  let written = 0;
  try {
    const base = at ?? 0;
    for await (const chunk of requestBody(r.req, bodyChecks(r.req.headers, r.principal.signature))) {
      if (chunk.length === 0) continue;
      if (size !== undefined && written + chunk.length > size) throw new S3Error('IncompleteBody', 'the part is longer than its Content-Length');
      await h.write(base + written, chunk);
      written += chunk.length;
    }
    if (size !== undefined && written !== size) throw new S3Error('IncompleteBody', `the part has ${written} of its ${size} bytes`);
    await h.close();
  } catch (e) {
    await h.close().catch(() => undefined);
    throw e;
  }
  const etag = store.newEtag(id, n, written);
  await store.recordPart(id, { number: n, size: written, etag, at, time: Date.now() });
  sendEmpty(r, 200, { etag });
}

export async function completeUpload(r: S3Request, id: string): Promise<void> {
  mustWrite(r);
  const store = storeOf(r);
  const rec = await store.get(id, r.bucket, r.key);
  const asked = parseCompleteMultipartUpload((await readSmallBody(r.req, 4 * 1024 * 1024, bodyChecks(r.req.headers, r.principal.signature))).toString('utf8'));
  if (asked.length === 0) throw new S3Error('MalformedXML', 'the upload names no parts');
  const have = new Map((await store.parts(id)).map((p) => [p.number, p]));
  const parts: PartRecord[] = [];
  asked.forEach((a, i) => {
    if (i > 0 && a.partNumber <= asked[i - 1]!.partNumber) throw new S3Error('InvalidPartOrder', 'parts must be listed in ascending order');
    const p = have.get(a.partNumber);
    const unquote = (s: string): string => s.replace(/^"|"$/g, '');
    if (!p || unquote(p.etag) !== unquote(a.etag)) throw new S3Error('InvalidPart', `part ${a.partNumber} was not uploaded or its ETag differs`);
    if (i < asked.length - 1 && p.size < MIN_PART) throw new S3Error('EntityTooSmall', `part ${a.partNumber} is ${p.size} bytes; every part but the last needs at least 5 MiB`);
    parts.push(p);
  });
  const c = client(r);
  const target = objectPath(r);
  await checkBucket(r);
  let offset = 0;
  const inPlace = parts.every((p) => {
    const ok = p.at === offset;
    offset += p.size;
    return ok;
  });
  const total = offset;
  const meta = rec.contentType || rec.userMeta ? { contentType: rec.contentType, userMeta: rec.userMeta } : undefined;
  let st: FileStat;
  if (inPlace) {
    st = await c.truncate(store.dataPath(id), total);
    if (meta) await c.setxattr(store.dataPath(id), OBJECT_XATTR, encodeObjectMeta(objectMetaFor(st, meta)));
    // A failed rename (a directory in the way) leaves the upload whole, to be completed again.
    await commitStaged(c, { dir: (await c.stat(store.dir(id))).ino, name: 'data' }, target, { makeParents: true, keepOnFailure: true });
  } else {
    // Uneven parts, or parts kept apart: the object is made by copying them in order.
    const staged = await writeStaged(r.principal.access, partBytes(r, store, id, parts, store.dataPath(id)), { meta: () => meta });
    st = staged.stat;
    await commitStaged(c, staged, target, { makeParents: true });
  }
  await store.remove(id).catch((err: unknown) => r.log.warn('removing a completed upload failed', { id, err }));
  sendXml(r, 200, 'CompleteMultipartUploadResult', { Location: `/${r.bucket}/${r.key}`, Bucket: r.bucket, Key: r.key, ETag: etagOf(st) });
}

async function* partBytes(r: S3Request, store: UploadStore, id: string, parts: PartRecord[], data: string): AsyncGenerator<Buffer> {
  const c = client(r);
  for (const p of parts) {
    const h = await c.open(p.at === null ? store.sidePath(id, p.number) : data, { read: true });
    try {
      const start = p.at ?? 0;
      yield* filePieces(h, start, start + p.size);
    } finally {
      await h.close();
    }
  }
}

export async function abortUpload(r: S3Request, id: string): Promise<void> {
  mustWrite(r);
  const store = storeOf(r);
  await store.get(id, r.bucket, r.key);
  await store.remove(id);
  sendEmpty(r, 204);
}

export async function listParts(r: S3Request, id: string): Promise<void> {
  const store = storeOf(r);
  await store.get(id, r.bucket, r.key);
  const marker = Number(r.query.get('part-number-marker') ?? 0);
  const max = Math.min(Number(r.query.get('max-parts') ?? 1000), 1000);
  const all = (await store.parts(id)).filter((p) => p.number > marker);
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  sendXml(r, 200, 'ListPartsResult', {
    Bucket: r.bucket, Key: r.key, UploadId: id, PartNumberMarker: marker, MaxParts: max, IsTruncated: truncated,
    ...(truncated ? { NextPartNumberMarker: page[page.length - 1]!.number } : {}), StorageClass: 'STANDARD', Owner: OWNER, Initiator: OWNER,
    Part: page.map((p) => ({ PartNumber: p.number, LastModified: new Date(p.time).toISOString(), ETag: p.etag, Size: p.size })),
  });
}

export async function listUploads(r: S3Request): Promise<void> {
  await checkBucket(r);
  const prefix = r.query.get('prefix') ?? '';
  const uploads = (await storeOf(r).list())
    .filter((u) => u.rec.bucket === r.bucket && u.rec.key.startsWith(prefix))
    .sort((a, b) => (a.rec.key < b.rec.key ? -1 : a.rec.key > b.rec.key ? 1 : a.rec.initiated - b.rec.initiated))
    .slice(0, 1000);
  sendXml(r, 200, 'ListMultipartUploadsResult', {
    Bucket: r.bucket, Prefix: prefix, MaxUploads: 1000, IsTruncated: false,
    Upload: uploads.map((u) => ({ Key: u.rec.key, UploadId: u.id, Initiator: OWNER, Owner: OWNER, StorageClass: 'STANDARD', Initiated: new Date(u.rec.initiated).toISOString() })),
  });
}
