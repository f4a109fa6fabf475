/**
 * Reading a file for an HTTP answer: open it (following symlinks, as `cat` would), learn what the
 * APIs need to say about it (size, mtime, ETag, content type, S3 metadata), and send a byte range of
 * it to the response piece by piece, each read overlapping the sending of the one before and
 * waiting while the client is slower than the cluster (so memory stays at two pieces per request).
 */
import { posix } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { FileHandle } from '../../client/file-handle.js';
import { filePieces } from '../../client/file-pieces.js';
import type { FileStat } from '../../client/file-stat.js';
import type { FstClient } from '../../client/fst-client.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { contentTypeOf } from '../http/content-type.js';
import { decodeObjectMeta, etagOf, OBJECT_XATTR, type ObjectMeta } from './object-meta.js';

export interface OpenedFile {
  handle: FileHandle;
  stat: FileStat;
  meta: ObjectMeta | undefined;
  etag: string;
  contentType: string;
}

/** What the gateway recorded of a file (object-meta.ts), if it still matches it; by inode: no path walk. */
export async function readObjectMeta(client: FstClient, st: FileStat): Promise<ObjectMeta | undefined> {
  if (!st.hasXattrs) return undefined;
  const raw = await client.vfs.getxattr(st.ino, OBJECT_XATTR).catch((e: unknown) => {
    const code = toFsError(e).code;
    if (code === 'ENODATA' || code === 'ENOTSUP') return undefined;
    throw e;
  });
  return decodeObjectMeta(raw, st);
}

/**
 * Opens a regular file for reading; EISDIR for a directory, EINVAL for anything else. The open asks
 * the master for the file's attributes (close-to-open), which are then known without another call.
 */
export async function openFile(client: FstClient, path: string): Promise<OpenedFile> {
  const handle = await client.open(path, { read: true });
  try {
    const stat = handle.knownStat();
    const meta = await readObjectMeta(client, stat);
    return { handle, stat, meta, etag: etagOf(stat), contentType: meta?.contentType ?? contentTypeOf(posix.basename(path)) };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Sends bytes [start, end) of `h` as the response body (headers already set), then ends it. */
export async function sendFileRange(res: ServerResponse, h: FileHandle, start: number, end: number): Promise<void> {
  for await (const piece of filePieces(h, start, end)) {
    if (res.destroyed) return;
    if (!res.write(piece)) await drained(res);
  }
  if (!res.destroyed) res.end();
}
