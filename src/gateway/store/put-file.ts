/**
 * Writes a file from a stream, atomically: the bytes go to a new file in the staging directory,
 * which is closed (so the data is on every replica and committed: what close(2) promises) and then
 * renamed over the target. Readers see the old file or the new one; a body that fails or stops
 * half way (a client that disconnects, a checksum that does not match) leaves nothing but the
 * removed staging file.
 */
import { posix } from 'node:path';
import type { FileStat } from '../../client/file-stat.js';
import type { FstClient } from '../../client/fst-client.js';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { encodeObjectMeta, objectMetaFor, OBJECT_XATTR, type ObjectMeta } from './object-meta.js';
import type { Staging } from './staging.js';

export interface PutOptions {
  /** Permission bits of a new file. @default 0o644 */
  mode?: number;
  /** Create missing parent directories (mkdir -p). */
  makeParents: boolean;
  /** What to record beside the data, asked once the body has been read whole (e.g. its MD5). */
  meta?: () => Omit<ObjectMeta, 'size' | 'mtime'> | undefined;
}

/** Checks that `path` can take a file: its parent is a directory (made if asked) and it is not one. */
export async function checkTarget(client: FstClient, path: string, makeParents: boolean): Promise<void> {
  const parent = posix.dirname(path);
  if (path === '/') throw new FsError('EISDIR', 'the root is a directory');
  if (makeParents) {
    await client.mkdirp(parent).catch((e: unknown) => {
      const err = toFsError(e);
      // A file where a directory should be: a conflict with what exists, not a bad request.
      throw err.code === 'EEXIST' ? new FsError('ENOTDIR', `'${parent}' exists and is not a directory`, { cause: err }) : err;
    });
  } else if ((await client.stat(parent)).kind !== 'directory') {
    throw new FsError('ENOTDIR', `'${parent}' is not a directory`);
  }
  const existing = await client.lstat(path).catch((e: unknown) => {
    if (toFsError(e).code === 'ENOENT') return undefined;
    throw e;
  });
  if (existing?.kind === 'directory') throw new FsError('EISDIR', `'${path}' is a directory`);
}

/** Writes `body` to a new staging file and closes it; the caller renames it into place. */
export async function writeStaged(client: FstClient, staging: Staging, body: AsyncIterable<Buffer>, o: Pick<PutOptions, 'mode' | 'meta'>): Promise<{ temp: string; stat: FileStat }> {
  const temp = await staging.tempPath();
  const h = await client.open(temp, { create: true, exclusive: true, write: true }, o.mode ?? 0o644);
  let closed = false;
  try {
    let pos = 0;
    for await (const chunk of body) {
      if (chunk.length === 0) continue;
      await h.write(pos, chunk);
      pos += chunk.length;
    }
    closed = true;
    await h.close();
    let stat = await client.stat(temp);
    const meta = o.meta?.();
    if (meta && Object.keys(meta).length > 0) {
      await client.setxattr(temp, OBJECT_XATTR, encodeObjectMeta(objectMetaFor(stat, meta)));
      stat = { ...stat, hasXattrs: true };
    }
    return { temp, stat };
  } catch (e) {
    if (!closed) await h.close().catch(() => undefined);
    await client.unlink(temp).catch(() => undefined);
    throw e;
  }
}

/** The whole upload: check, write, rename into place. Returns the new file's attributes. */
export async function putFile(client: FstClient, staging: Staging, path: string, body: AsyncIterable<Buffer>, o: PutOptions): Promise<FileStat> {
  await checkTarget(client, path, o.makeParents);
  const { temp, stat } = await writeStaged(client, staging, body, o);
  try {
    await client.rename(temp, path);
  } catch (e) {
    await client.unlink(temp).catch(() => undefined);
    throw e;
  }
  return stat;
}
