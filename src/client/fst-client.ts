/**
 * FstClient: FST as a path-based API (the shape of JuiceFS's pkg/fs), for the CLIs, tests and
 * programs. Paths are absolute and resolved from the root on every call (path-resolver.ts); every
 * method throws FsError whose message names the operation and the path, and whose code is the
 * errno the master or a chunkserver gave.
 *
 *   const fst = new FstClient({ master: 'host:9420' });
 *   await fst.connect();
 *   const h = await fst.open('/a/b', { create: true, truncate: true });
 *   await h.write(0, data); await h.close();
 *   await fst.close();
 */
import type { Credentials } from '../common/security/credentials-file.js';
import { FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import { parseHostPort } from '../common/config/address.js';
import { silentLogger, type Logger } from '../common/log/logger.js';
import { ChunkClient } from './chunk-client.js';
import { FileHandle, accessMode, type OpenFlags } from './file-handle.js';
import { openAttr } from './open-attr.js';
import { toFileStat, type FileStat } from './file-stat.js';
import { MetaClient, type Identity, type StatfsResult, type XattrMode } from './meta-client.js';
import { PathResolver, normalizePath } from './path-resolver.js';
import type { ReadOptions } from './read/file-reader.js';
import { entryInfo, listDir, mkdirp, removeTree, toTimeChange, type DirEntryInfo, type TimeInput } from './tree-ops.js';
import { fst, type Caller } from './types.js';
import type { WritebackOptions } from './writeback/file-writer.js';
import { replaceChainVia, UnsyncedChunks } from './writeback/unsynced-chunks.js';

export interface FstClientOptions {
  /** The master's host:port. */
  master: string;
  /** How long connect() waits for the master to answer. @default 5000 */
  connectTimeoutMs?: number;
  /** Deadline of each master call. @default 30000 */
  rpcTimeoutMs?: number;
  /** How long an unreachable daemon is retried before a call fails. @default 10000 */
  retryForMs?: number;
  /** Deadline of one chunk read (ReadRange, at most 1 MiB). @default 60000 */
  readTimeoutMs?: number;
  /** Deadline of one WriteRange call, replication included. @default 120000 */
  writeTimeoutMs?: number;
  /** The identity sent with every request. @default this process's uid, gid and groups */
  caller?: Caller;
  /** A session for directory delegations (the mount's; absent: none). */
  session?: string;
  /** The credential presented to the master and chunkservers (TLS); absent: plaintext (`--insecure` clusters). */
  credentials?: Credentials;
  writeback?: WritebackOptions;
  read?: ReadOptions;
  logger?: Logger;
}

/** Adds the operation and path to an error's message; the errno stays. */
async function at<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = toFsError(e);
    throw new FsError(err.code, `${op} '${path}': ${err.message}`, { cause: err });
  }
}

export class FstClient {
  readonly meta: MetaClient;
  readonly chunks: ChunkClient;
  readonly resolver: PathResolver;
  /** What this client's credential allows (GetIdentity), once connected. */
  identity: Identity | undefined;
  private readonly unsynced: UnsyncedChunks;
  private readonly handles = new Set<FileHandle>();
  private readonly log: Logger;

  constructor(private readonly options: FstClientOptions) {
    parseHostPort(options.master, 'master address');
    this.log = options.logger ?? silentLogger;
    this.meta = new MetaClient(options.master, {
      timeoutMs: options.rpcTimeoutMs, retryForMs: options.retryForMs, caller: options.caller, session: options.session,
      tls: options.credentials && { credentials: options.credentials, server: 'master' },
    });
    this.chunks = new ChunkClient({
      tls: options.credentials && { credentials: options.credentials, server: 'chunkserver' },
      retryForMs: options.retryForMs, readTimeoutMs: options.readTimeoutMs, writeTimeoutMs: options.writeTimeoutMs, logger: this.log,
    });
    this.resolver = new PathResolver(this.meta);
    this.unsynced = new UnsyncedChunks(this.chunks, this.log, { replace: replaceChainVia(this.meta) });
  }

  /** Checks that the master answers within connectTimeoutMs; throws ETIMEDOUT otherwise. */
  async connect(): Promise<void> {
    const ms = this.options.connectTimeoutMs ?? 5000;
    try {
      this.identity = await this.meta.getIdentity({ timeoutMs: ms, retryForMs: ms });
      this.meta.rootIno = this.identity.rootIno;
      await this.meta.getAttr(this.meta.rootIno, { timeoutMs: ms, retryForMs: ms });
    } catch (e) {
      const err = toFsError(e);
      if (err.code !== 'EIO' && err.code !== 'ETIMEDOUT') throw err;
      throw new FsError('ETIMEDOUT', `master ${this.options.master} did not answer within ${ms} ms`, { cause: err });
    }
  }

  /** Closes every open handle (flushing it), then the connections. Throws the first flush error. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.handles].map((h) => h.close()));
    this.meta.close();
    this.chunks.close();
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** stat(2): follows a final symlink. */
  stat(path: string): Promise<FileStat> {
    return at('stat', path, async () => toFileStat(await this.resolver.resolve(path, true)));
  }

  /** lstat(2): a final symlink is reported itself. */
  lstat(path: string): Promise<FileStat> {
    return at('lstat', path, async () => toFileStat(await this.resolver.resolve(path, false)));
  }

  /** Whether `path` names something (a dangling symlink counts). */
  async exists(path: string): Promise<boolean> {
    try {
      await this.resolver.resolve(path, false);
      return true;
    } catch (e) {
      if (toFsError(e).code === 'ENOENT') return false;
      throw e;
    }
  }

  /** mkdir(2). */
  mkdir(path: string, mode = 0o755): Promise<FileStat> {
    return at('mkdir', path, async () => {
      const { dir, name } = await this.resolver.resolveParent(path);
      return toFileStat((await this.meta.mkdir(dir.ino, name, mode)).attr);
    });
  }

  /** mkdir -p: creates missing directories along `path`; existing directories are fine. */
  mkdirp(path: string, mode = 0o755): Promise<FileStat> {
    return at('mkdir', path, async () => toFileStat(await mkdirp(this.meta, this.resolver, path, mode)));
  }

  /** Every entry of a directory (all pages), in name order, without "." and "..". */
  readdir(path: string, opts: { withAttrs?: boolean } = {}): Promise<DirEntryInfo[]> {
    return at('readdir', path, async () => {
      const dir = await this.resolver.resolve(path, true);
      if (dir.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', 'not a directory');
      return listDir(this.meta, dir.ino, opts.withAttrs ?? false);
    });
  }

  /** One page of a directory, names in byte order after `after`, at most `limit` (0: the master's page size). */
  readdirPage(path: string, page: { after?: string; limit?: number; withAttrs?: boolean } = {}): Promise<{ entries: DirEntryInfo[]; more: boolean }> {
    return at('readdir', path, async () => {
      const dir = await this.resolver.resolve(path, true);
      if (dir.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', 'not a directory');
      const res = await this.meta.readdir(dir.ino, page);
      return { entries: res.entries.map(entryInfo), more: res.more };
    });
  }

  /** unlink(2). */
  unlink(path: string): Promise<void> {
    return at('unlink', path, async () => {
      const { dir, name } = await this.resolver.resolveParent(path);
      await this.meta.unlink(dir.ino, name);
    });
  }

  /** rmdir(2). */
  rmdir(path: string): Promise<void> {
    return at('rmdir', path, async () => {
      const { dir, name } = await this.resolver.resolveParent(path);
      await this.meta.rmdir(dir.ino, name);
    });
  }

  /** rm [-r]: unlinks a file or symlink; a directory needs `recursive` (EISDIR otherwise). */
  rm(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return at('rm', path, async () => {
      const target = await this.resolver.resolve(path, false);
      if (target.type !== fst.FileType.DIRECTORY) {
        const { dir, name } = await this.resolver.resolveParent(path);
        await this.meta.unlink(dir.ino, name);
        return;
      }
      if (!opts.recursive) throw new FsError('EISDIR', 'is a directory');
      if (target.ino === this.meta.rootIno) throw new FsError('EBUSY', 'will not remove the root directory');
      await removeTree(this.meta, normalizePath(path), target.ino, this.resolver);
    });
  }

  /** rename(2); with noReplace an existing target fails with EEXIST (RENAME_NOREPLACE). */
  rename(from: string, to: string, opts: { noReplace?: boolean } = {}): Promise<void> {
    return at('rename', from, async () => {
      const src = await this.resolver.resolveParent(from);
      const dst = await this.resolver.resolveParent(to);
      await this.meta.rename(src.dir.ino, src.name, dst.dir.ino, dst.name, opts.noReplace ?? false);
    });
  }

  /** link(2): `newPath` becomes another name of `existing` (a final symlink is not followed). */
  link(existing: string, newPath: string): Promise<FileStat> {
    return at('link', newPath, async () => {
      const target = await this.resolver.resolve(existing, false);
      const { dir, name } = await this.resolver.resolveParent(newPath);
      return toFileStat((await this.meta.link(target.ino, dir.ino, name)).attr);
    });
  }

  /** symlink(2): creates `path` pointing to `target` (stored as given). */
  symlink(target: string, path: string): Promise<FileStat> {
    return at('symlink', path, async () => {
      const { dir, name } = await this.resolver.resolveParent(path);
      return toFileStat((await this.meta.symlink(dir.ino, name, target)).attr);
    });
  }

  /** readlink(2). */
  readlink(path: string): Promise<string> {
    return at('readlink', path, async () => {
      const link = await this.resolver.resolve(path, false);
      if (link.type !== fst.FileType.SYMLINK) throw new FsError('EINVAL', 'not a symlink');
      return this.meta.readlink(link.ino);
    });
  }

  /** chmod(2). */
  chmod(path: string, mode: number): Promise<FileStat> {
    return this.setAttr('chmod', path, { mode });
  }

  /** chown(2); pass -1 (or undefined) to leave one of them alone. */
  chown(path: string, uid: number | undefined, gid: number | undefined): Promise<FileStat> {
    return this.setAttr('chown', path, {
      ...(uid !== undefined && uid >= 0 ? { uid } : {}),
      ...(gid !== undefined && gid >= 0 ? { gid } : {}),
    });
  }

  /** utimensat(2): a Date, Unix ms, a Timespec or 'now'; undefined leaves that time alone. */
  utimes(path: string, atime: TimeInput | undefined, mtime: TimeInput | undefined): Promise<FileStat> {
    return this.setAttr('utimes', path, toTimeChange(atime, mtime));
  }

  /** truncate(2). Open handles of this client keep their own pending writes. */
  truncate(path: string, size: number): Promise<FileStat> {
    return this.setAttr('truncate', path, { size });
  }

  private setAttr(op: string, path: string, changes: Parameters<MetaClient['setAttr']>[1]): Promise<FileStat> {
    return at(op, path, async () => {
      const target = await this.resolver.resolve(path, true);
      return toFileStat(await this.meta.setAttr(target.ino, changes));
    });
  }

  /** getxattr(2). */
  getxattr(path: string, name: string): Promise<Buffer> {
    return at('getxattr', path, async () => this.meta.getXattr((await this.resolver.resolve(path)).ino, name));
  }

  /** setxattr(2); `mode` 'create' fails if it exists, 'replace' if it does not. */
  setxattr(path: string, name: string, value: Uint8Array | string, mode: XattrMode = 'any'): Promise<void> {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    return at('setxattr', path, async () => this.meta.setXattr((await this.resolver.resolve(path)).ino, name, bytes, mode));
  }

  /** listxattr(2). */
  listxattr(path: string): Promise<string[]> {
    return at('listxattr', path, async () => this.meta.listXattr((await this.resolver.resolve(path)).ino));
  }

  /** removexattr(2). */
  removexattr(path: string, name: string): Promise<void> {
    return at('removexattr', path, async () => this.meta.removeXattr((await this.resolver.resolve(path)).ino, name));
  }

  /** statfs(2). */
  statfs(): Promise<StatfsResult> {
    return at('statfs', '/', () => this.meta.statfs());
  }

  /** open(2) of a regular file; `mode` is used when the file is created. */
  open(path: string, flags: OpenFlags = {}, mode = 0o644): Promise<FileHandle> {
    return at('open', path, async () => {
      const attr = await openAttr(this.meta, this.resolver, path, flags, mode);
      const handle = new FileHandle(normalizePath(path), attr, accessMode(flags), {
        meta: this.meta,
        chunks: this.chunks,
        log: this.log,
        unsynced: this.unsynced,
        writeback: this.options.writeback,
        read: this.options.read,
        onClose: (h) => this.handles.delete(h),
      });
      this.handles.add(handle);
      return handle;
    });
  }

  /** The whole content of a file. */
  async readFile(path: string): Promise<Buffer> {
    const h = await this.open(path, { read: true });
    try {
      const parts: Buffer[] = [];
      for (let pos = 0; ;) {
        const part = await h.read(pos, 32 * 1024 * 1024);
        if (part.length === 0) break;
        parts.push(part);
        pos += part.length;
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    } finally {
      await h.close();
    }
  }

  /** Creates or replaces the content of a file, durably. */
  async writeFile(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
    const h = await this.open(path, { create: true, truncate: true, write: true }, mode);
    try {
      await h.write(0, typeof data === 'string' ? Buffer.from(data) : data);
    } finally {
      await h.close();
    }
  }
}
