/**
 * The plain REST API, by path under /files/ (paths are FST paths as the request's credential sees
 * them):
 *   GET/HEAD /files/<path>          the file (Range, ETag, Last-Modified, conditional requests; `?download=1`
 *                                   adds Content-Disposition: attachment); a directory is 409
 *   GET      /files/<dir>/?list     a page of the directory as JSON (listing.ts)
 *   PUT      /files/<path>          the body becomes the file, atomically; parents are made (201 new, 200 replaced)
 *   DELETE   /files/<path>          a file, or an empty directory; `?recursive=1` removes a tree
 *   POST     /files/<dir>/          a multipart form upload into the directory (form-upload.ts)
 *   POST     /files/<path>?mkdir    mkdir -p
 *   POST     /files/<path>?rename=<to>   rename(2); <to> is a path like /a/b
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { posix } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { Principal } from '../auth/authenticate.js';
import { evaluatePreconditions } from '../http/conditional.js';
import { HttpError } from '../http/http-error.js';
import { parseRange, rangeHeader } from '../http/range.js';
import { requestBody } from '../http/request-body.js';
import { decodePathSegments, fstPath } from '../http/request-path.js';
import { sendJson } from '../http/respond.js';
import { etagOf, metaToRecord } from '../store/object-meta.js';
import { putFile } from '../store/put-file.js';
import { openFile, sendFileRange } from '../store/read-file.js';
import { STAGING_DIR } from '../store/staging.js';
import { formUpload } from './form-upload.js';
import { listDirectory } from './listing.js';

export interface FilesRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** The FST path the URL names. */
  path: string;
  /** The URL path ended with '/'. */
  slash: boolean;
  query: URLSearchParams;
  principal: Principal;
}

const CHANGES = new Set(['PUT', 'DELETE', 'POST']);

/** The FST path of a URL path below /files (the raw path with "/files" removed). */
export function filesPath(rawPathAfterPrefix: string): string {
  const path = fstPath(decodePathSegments(rawPathAfterPrefix));
  if (path === STAGING_DIR || path.startsWith(`${STAGING_DIR}/`)) throw new HttpError(403, 'EACCES', `'${STAGING_DIR}' is the gateway's own directory`);
  return path;
}

export async function handleFiles(r: FilesRequest): Promise<void> {
  const method = r.req.method ?? 'GET';
  if (CHANGES.has(method) && r.principal.readOnly) throw new HttpError(403, 'EROFS', 'this access is read-only');
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (r.query.has('list')) return sendJson(r.res, 200, await listDirectory(r.principal.access.client, r.path, r.query));
      return getFile(r, method);
    case 'PUT':
      return put(r);
    case 'DELETE':
      return remove(r);
    case 'POST':
      return post(r);
    default:
      throw new HttpError(405, 'bad-method', `${method} is not supported here`, { allow: 'GET, HEAD, PUT, DELETE, POST' });
  }
}

async function getFile(r: FilesRequest, method: string): Promise<void> {
  const f = await openFile(r.principal.access.client, r.path);
  try {
    const { stat, etag } = f;
    const lastModified = new Date(stat.mtimeMs).toUTCString();
    const common: Record<string, string> = { etag, 'last-modified': lastModified, 'accept-ranges': 'bytes', 'cache-control': 'no-cache' };
    const pre = evaluatePreconditions(r.req.headers, { etag, mtimeMs: stat.mtimeMs }, method);
    if (pre === 'not-modified') {
      r.res.writeHead(304, common);
      r.res.end();
      return;
    }
    if (pre === 'failed') throw new HttpError(412, 'precondition-failed', 'a precondition of the request does not hold');
    const range = parseRange(rangeHeader(r.req.headers, etag, stat.mtimeMs), stat.size);
    const start = range?.start ?? 0;
    const end = range ? range.end + 1 : stat.size;
    const headers: Record<string, string | number> = { ...common, 'content-type': f.contentType, 'content-length': end - start };
    if (range) headers['content-range'] = `bytes ${start}-${end - 1}/${stat.size}`;
    if (r.query.has('download')) headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(posix.basename(r.path))}`;
    r.res.writeHead(range ? 206 : 200, headers);
    if (method === 'HEAD' || end === start) {
      r.res.end();
      return;
    }
    await sendFileRange(r.res, f.handle, start, end);
  } finally {
    await f.handle.close().catch(() => undefined);
  }
}

async function put(r: FilesRequest): Promise<void> {
  if (r.slash || r.path === '/') throw new HttpError(400, 'bad-path', 'a file path must not end with "/" (POST ?mkdir makes directories)');
  const type = r.req.headers['content-type'];
  const st = await putFile(r.principal.access, r.path, requestBody(r.req), {
    makeParents: true, meta: () => metaToRecord(r.path, type),
  });
  const etag = etagOf(st);
  sendJson(r.res, st.existed ? 200 : 201, { path: r.path, size: st.size, etag }, { etag });
}

async function remove(r: FilesRequest): Promise<void> {
  const client = r.principal.access.client;
  if (r.path === '/') throw new HttpError(403, 'EBUSY', 'the root cannot be removed');
  const st = await client.lstat(r.path);
  if (st.kind === 'directory') {
    if (r.query.get('recursive') === '1' || r.query.get('recursive') === 'true') await client.rm(r.path, { recursive: true });
    else await client.rmdir(r.path);
  } else {
    await client.unlink(r.path);
  }
  r.res.writeHead(204);
  r.res.end();
}

async function post(r: FilesRequest): Promise<void> {
  const client = r.principal.access.client;
  if (r.query.has('mkdir')) {
    const existed = await client.stat(r.path).then((s) => s.kind === 'directory', () => false);
    await client.mkdirp(r.path).catch((e: unknown) => {
      const err = toFsError(e);
      throw err.code === 'EEXIST' ? new FsError('EEXIST', `'${r.path}' exists and is not a directory`) : err;
    });
    return sendJson(r.res, existed ? 200 : 201, { path: r.path });
  }
  if (r.query.has('rename')) {
    const to = r.query.get('rename') ?? '';
    if (!to.startsWith('/')) throw new HttpError(400, 'bad-path', 'rename= takes an absolute path, such as /a/b');
    const target = filesPath(to.split('/').map(encodeURIComponent).join('/'));
    if (target === '/') throw new HttpError(400, 'bad-path', 'cannot rename onto the root');
    await client.mkdirp(posix.dirname(target));
    await client.rename(r.path, target);
    return sendJson(r.res, 200, { path: target });
  }
  const type = r.req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new HttpError(415, 'bad-form', 'POST takes a multipart/form-data upload, ?mkdir or ?rename=');
  }
  const dir = await client.stat(r.path);
  if (dir.kind !== 'directory') throw new FsError('ENOTDIR', `'${r.path}' is not a directory`);
  sendJson(r.res, 201, { path: r.path, files: await formUpload(r.req, r.principal.access, r.path) });
}
