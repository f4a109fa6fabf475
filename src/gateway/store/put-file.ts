/**
 * Writes a file from a stream, atomically: the bytes go to a new file in the staging directory,
 * which is closed (so the data is on every replica and committed: what close(2) promises) and then
 * renamed over the target. Readers see the old file or the new one; a body that fails or stops
 * half way (a client that disconnects, a checksum that does not match) leaves nothing but the
 * removed staging file.
 *
 * The staging file is made and renamed through the client core by inode (the staging directory's
 * is kept, the target's parent is resolved once): a small upload costs the master a create, the
 * data's commit, one lookup per directory of the target and the rename, as few calls as a client
 * writing the file in place.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { posix } from 'node:path';
import { toFileStat, type FileStat } from '../../client/file-stat.js';
import type { FstClient } from '../../client/fst-client.js';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { ClusterAccess } from '../client-pool.js';
import { encodeObjectMeta, objectMetaFor, OBJECT_XATTR, type ObjectMeta } from './object-meta.js';

export interface PutOptions {
  /** Permission bits of a new file. @default 0o644 */
  mode?: number;
  /** Create missing parent directories (mkdir -p). */
  makeParents: boolean;
  /** What to record beside the data, asked once the body has been read whole. */
  meta?: () => Omit<ObjectMeta, 'size' | 'mtime'> | undefined;
}

/** A complete file in the staging directory, waiting to be renamed into place. */
export interface Staged {
  dir: number;
  name: string;
  stat: FileStat;
}

const gone = (e: unknown): boolean => ['ENOENT', 'ESTALE'].includes(toFsError(e).code);

/** Writes `body` to a new staging file, closes it and records its metadata. */
export async function writeStaged(access: ClusterAccess, body: AsyncIterable<Buffer>, o: Pick<PutOptions, 'mode' | 'meta'>): Promise<Staged> {
  const { client, staging } = access;
  const vfs = client.vfs;
  const name = randomUUID();
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL;
  let dir = await staging.tmpDir();
  let created;
  try {
    created = await vfs.create(dir, name, o.mode ?? 0o644, flags, client.ctx);
  } catch (e) {
    if (!gone(e)) throw e;
    // The staging directory was removed (by hand, or a restore): make it again, once.
    staging.forgetTmp();
    dir = await staging.tmpDir();
    created = await vfs.create(dir, name, o.mode ?? 0o644, flags, client.ctx);
  }
  const { fh } = created;
  let released = false;
  try {
    let pos = 0;
    for await (const chunk of body) {
      if (chunk.length === 0) continue;
      await vfs.write(fh, chunk, pos);
      pos += chunk.length;
    }
    await vfs.flush(fh);
    let stat = toFileStat(vfs.openState(fh).attr);
    released = true;
    await vfs.release(fh);
    const meta = o.meta?.();
    if (meta && Object.keys(meta).length > 0) {
      await vfs.setxattr(stat.ino, OBJECT_XATTR, encodeObjectMeta(objectMetaFor(stat, meta)), 0, client.ctx);
      stat = { ...stat, hasXattrs: true };
    }
    return { dir, name, stat };
  } catch (e) {
    if (!released) await vfs.release(fh).catch(() => undefined);
    await discard(client, { dir, name });
    throw e;
  }
}

/** Removes a staging file that will not be used. */
export async function discard(client: FstClient, staged: { dir: number; name: string }): Promise<void> {
  await client.vfs.unlink(staged.dir, staged.name, client.ctx).catch(() => undefined);
}

/** The directory that holds `path` (made with its parents if asked), and the last name. */
async function parentOf(client: FstClient, path: string, o: CommitOptions): Promise<{ dir: number; name: string }> {
  try {
    const { dir, name } = await client.resolver.resolveParent(path);
    return { dir: dir.ino, name };
  } catch (e) {
    const code = toFsError(e).code;
    if (!o.makeParents || code !== 'ENOENT') {
      throw code === 'ENOTDIR' ? new FsError('ENOTDIR', `a parent of '${path}' is not a directory`, { cause: e }) : e;
    }
  }
  await o.beforeMkdir?.();
  await client.mkdirp(posix.dirname(path)).catch((e: unknown) => {
    const err = toFsError(e);
    // A file where a directory should be: a conflict with what exists, not a bad request.
    throw err.code === 'EEXIST' ? new FsError('ENOTDIR', `'${posix.dirname(path)}' exists and is not a directory`, { cause: err }) : err;
  });
  const { dir, name } = await client.resolver.resolveParent(path);
  return { dir: dir.ino, name };
}

export interface CommitOptions {
  /** Create missing parent directories (mkdir -p). */
  makeParents: boolean;
  /** Called before parents are made (S3: the bucket must exist, it is never made by a put). */
  beforeMkdir?: () => Promise<void>;
  /** Leave the staged file when the rename fails (a multipart upload's assembled data). */
  keepOnFailure?: boolean;
}

/**
 * Renames a staged file over `path` (atomically replacing a file there). `existed`: whether a name
 * was there before (the rename says). The staged file is removed on failure.
 */
export async function commitStaged(client: FstClient, staged: Pick<Staged, 'dir' | 'name'>, path: string, o: CommitOptions): Promise<{ existed: boolean }> {
  try {
    if (path === '/') throw new FsError('EISDIR', 'the root is a directory');
    const { dir, name } = await parentOf(client, path, o);
    return { existed: await client.vfs.rename(staged.dir, staged.name, dir, name, 0, client.ctx) };
  } catch (e) {
    if (!o.keepOnFailure) await discard(client, staged);
    throw e;
  }
}

/** The whole upload: write, rename into place. Returns the new file's attributes. */
export async function putFile(access: ClusterAccess, path: string, body: AsyncIterable<Buffer>, o: PutOptions & Omit<CommitOptions, 'keepOnFailure'>): Promise<FileStat & { existed: boolean }> {
  const staged = await writeStaged(access, body, o);
  const { existed } = await commitStaged(access.client, staged, path, o);
  return { ...staged.stat, existed };
}
