/**
 * PutObject, GetObject, HeadObject, DeleteObject and CopyObject on the file `/<bucket>/<key>`.
 * Writes are atomic (store/put-file.ts) and the body is checked on the way in (signed payload
 * hash, aws-chunked signatures and trailing checksums, Content-MD5) before the file is renamed
 * into place. A key ending in '/' is a directory marker: an empty PutObject makes the directory,
 * GetObject answers an empty object for it. Deleting an object removes the directories it leaves
 * empty between it and the bucket, so prefixes vanish with their last object, as in S3.
 */
import { posix } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { filePieces } from '../../client/file-pieces.js';
import type { FileStat } from '../../client/file-stat.js';
import { evaluatePreconditions } from '../http/conditional.js';
import { HttpError } from '../http/http-error.js';
import { parseRange, rangeHeader } from '../http/range.js';
import { requestBody } from '../http/request-body.js';
import { encodeObjectMeta, etagOf, metaToRecord, objectMetaFor, OBJECT_XATTR, type ObjectMeta } from '../store/object-meta.js';
import { putFile } from '../store/put-file.js';
import { openFile, sendFileRange, type OpenedFile } from '../store/read-file.js';
import { bodyChecks } from './body-check.js';
import { S3Error } from './s3-error.js';
import { checkBucket, client, mustWrite, notFound, objectPath, sendEmpty, sendXml, userMetaOf, type S3Request } from './s3-request.js';
import { checkBucketName, checkKey } from './s3-target.js';

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type', 'response-content-disposition': 'content-disposition', 'response-content-language': 'content-language',
  'response-content-encoding': 'content-encoding', 'response-cache-control': 'cache-control', 'response-expires': 'expires',
};

/** Headers every object answer carries. */
export function objectHeaders(st: FileStat, meta: ObjectMeta | undefined): Record<string, string> {
  const h: Record<string, string> = { etag: etagOf(st), 'last-modified': new Date(st.mtimeMs).toUTCString(), 'accept-ranges': 'bytes' };
  for (const [k, v] of Object.entries(meta?.userMeta ?? {})) h[`x-amz-meta-${k}`] = v;
  return h;
}

export async function putObject(r: S3Request): Promise<void> {
  mustWrite(r);
  const c = client(r);
  const path = objectPath(r);
  if (r.key.endsWith('/')) {
    await checkBucket(r);
    // A directory marker: only an empty body makes sense for a directory.
    const body: Buffer[] = [];
    for await (const chunk of requestBody(r.req, bodyChecks(r.req.headers, r.principal.signature))) body.push(chunk);
    if (Buffer.concat(body).length > 0) throw new S3Error('InvalidArgument', 'a key ending in "/" names a directory and takes an empty body');
    await c.mkdirp(path);
    return sendEmpty(r, 200, { etag: etagOf(await c.stat(path)) });
  }
  if (r.req.headers['if-none-match'] === '*' && (await c.lstat(path).then(() => true, () => false))) {
    throw new S3Error('PreconditionFailed', `key '${r.key}' exists (If-None-Match: *)`);
  }
  const type = r.req.headers['content-type'];
  const userMeta = userMetaOf(r.req);
  // The bucket is checked only when the key's directory is missing (the one case a put makes any).
  const st = await putFile(r.principal.access, path, requestBody(r.req, bodyChecks(r.req.headers, r.principal.signature)), {
    makeParents: true, beforeMkdir: () => checkBucket(r), meta: () => metaToRecord(path, type, userMeta),
  }).catch((e: unknown) => {
    const code = toFsError(e).code;
    if (code === 'EISDIR') throw new S3Error('InvalidRequest', `key '${r.key}' is a prefix (a directory) here and cannot also be an object`);
    if (code === 'ENOTDIR') throw new S3Error('InvalidRequest', `a prefix of key '${r.key}' is an object here, so the key cannot be stored`);
    throw e;
  });
  sendEmpty(r, 200, { etag: etagOf(st) });
}

async function openObject(r: S3Request): Promise<OpenedFile | 'directory'> {
  const c = client(r);
  const path = objectPath(r);
  if (r.key.endsWith('/')) {
    const st = await c.stat(path).catch((e: unknown) => notFound(r, e));
    if (st.kind !== 'directory') return notFound(r, new FsError('ENOENT', 'not a directory'));
    return 'directory';
  }
  try {
    return await openFile(c, path);
  } catch (e) {
    const code = toFsError(e).code;
    // A prefix (directory) or anything but a file is no object.
    if (code === 'EISDIR' || code === 'EINVAL') return notFound(r, new FsError('ENOENT', 'not a file'));
    return notFound(r, e);
  }
}

export async function getObject(r: S3Request, head: boolean): Promise<void> {
  const f = await openObject(r);
  if (f === 'directory') return sendEmpty(r, 200, { 'content-type': 'application/x-directory', 'content-length': 0 });
  try {
    const { stat } = f;
    const headers: Record<string, string | number> = objectHeaders(stat, f.meta);
    const pre = evaluatePreconditions(r.req.headers, { etag: f.etag, mtimeMs: stat.mtimeMs }, head ? 'HEAD' : 'GET');
    if (pre === 'not-modified') return sendEmpty(r, 304, headers);
    if (pre === 'failed') throw new S3Error('PreconditionFailed', 'a precondition of the request does not hold');
    let range;
    try {
      range = parseRange(rangeHeader(r.req.headers, f.etag, stat.mtimeMs), stat.size);
    } catch (e) {
      if (e instanceof HttpError) throw new S3Error('InvalidRange', e.message);
      throw e;
    }
    const start = range?.start ?? 0;
    const end = range ? range.end + 1 : stat.size;
    headers['content-type'] = f.contentType;
    headers['content-length'] = end - start;
    if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${stat.size}`;
    for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
      const v = r.query.get(param);
      if (v !== null) headers[header] = v;
    }
    r.res.writeHead(range ? 206 : 200, { 'x-amz-request-id': r.requestId, ...headers });
    if (head || end === start) {
      r.res.end();
      return;
    }
    await sendFileRange(r.res, f.handle, start, end);
  } finally {
    await f.handle.close().catch(() => undefined);
  }
}

/** Removes `dir` and its parents while they are empty, up to (not including) the bucket. */
export async function pruneEmptyDirs(r: S3Request, dir: string): Promise<void> {
  const bucket = `/${r.bucket}`;
  for (let d = dir; d !== bucket && d.startsWith(`${bucket}/`); d = posix.dirname(d)) {
    try {
      await client(r).rmdir(d);
    } catch (e) {
      // Not empty (or changed meanwhile): leave it. The object is deleted either way.
      const code = toFsError(e).code;
      if (code !== 'ENOTEMPTY' && code !== 'ENOENT' && code !== 'EEXIST') r.log.warn('removing an emptied prefix failed', { dir: d, err: e });
      return;
    }
  }
}

/** Deletes one key; a missing key is not an error (S3 answers 204 all the same). */
export async function deleteKey(r: S3Request, key: string): Promise<void> {
  const c = client(r);
  const path = objectPath(r, key);
  try {
    if (key.endsWith('/')) {
      await c.rmdir(path);
    } else {
      const st = await c.lstat(path);
      if (st.kind === 'directory') return; // a prefix, not an object
      await c.unlink(path);
    }
  } catch (e) {
    const code = toFsError(e).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENOTEMPTY') return;
    throw e;
  }
  await pruneEmptyDirs(r, posix.dirname(path));
}

export async function deleteObject(r: S3Request): Promise<void> {
  mustWrite(r);
  await checkBucket(r);
  await deleteKey(r, r.key);
  sendEmpty(r, 204);
}

function copySource(header: string): { bucket: string; key: string } {
  let raw = header.split('?')[0]!;
  try {
    raw = decodeURIComponent(raw);
  } catch {
    throw new S3Error('InvalidArgument', 'x-amz-copy-source is not valid percent-encoding');
  }
  if (raw.startsWith('/')) raw = raw.slice(1);
  const slash = raw.indexOf('/');
  if (slash <= 0 || slash === raw.length - 1) throw new S3Error('InvalidArgument', 'x-amz-copy-source must be <bucket>/<key>');
  return { bucket: checkBucketName(raw.slice(0, slash)), key: checkKey(raw.slice(slash + 1)) };
}

export async function copyObject(r: S3Request): Promise<void> {
  mustWrite(r);
  await checkBucket(r);
  const src = copySource(String(r.req.headers['x-amz-copy-source']));
  const srcReq: S3Request = { ...r, bucket: src.bucket, key: src.key };
  const c = client(r);
  const target = objectPath(r);
  const replace = String(r.req.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase() === 'REPLACE';
  const f = await openObject(srcReq);
  if (f === 'directory') throw new S3Error('InvalidRequest', 'copying a directory marker is not supported');
  try {
    const pre = evaluatePreconditions({
      'if-match': r.req.headers['x-amz-copy-source-if-match'], 'if-none-match': r.req.headers['x-amz-copy-source-if-none-match'],
      'if-modified-since': r.req.headers['x-amz-copy-source-if-modified-since'], 'if-unmodified-since': r.req.headers['x-amz-copy-source-if-unmodified-since'],
    }, { etag: f.etag, mtimeMs: f.stat.mtimeMs }, 'GET');
    if (pre !== 'proceed') throw new S3Error('PreconditionFailed', 'a copy-source precondition does not hold');
    const meta = replace ? metaToRecord(target, r.req.headers['content-type'], userMetaOf(r.req)) : f.meta && { contentType: f.meta.contentType, userMeta: f.meta.userMeta };
    let st: FileStat;
    if (objectPath(srcReq) === target) {
      if (!replace) throw new S3Error('InvalidRequest', 'copying an object onto itself needs x-amz-metadata-directive: REPLACE');
      // Only the metadata changes: no data is copied.
      st = await c.stat(target);
      await c.setxattr(target, OBJECT_XATTR, encodeObjectMeta(objectMetaFor(st, meta ?? {})));
    } else {
      st = await putFile(r.principal.access, target, filePieces(f.handle), { makeParents: true, beforeMkdir: () => checkBucket(r), meta: () => meta });
    }
    sendXml(r, 200, 'CopyObjectResult', { ETag: etagOf(st), LastModified: new Date(st.mtimeMs).toISOString() });
  } finally {
    await f.handle.close().catch(() => undefined);
  }
}
