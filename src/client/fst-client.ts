/**
 * FstClient: FST as a path-based API (the shape of JuiceFS's pkg/fs over pkg/vfs), for `fst`,
 * tests, programs and the HTTP gateway. A thin adapter over the client core (core.ts): paths are
 * resolved by one PathResolver over the Vfs's lookups, and every operation is the Vfs's, so this
 * client and a mount share one write path (one writer per open inode), one read path and one name
 * cache. Names are trusted for `entryTtlMs`, 0 by default: every path resolution asks the master,
 * so two clients (or gateway processes) see each other's changes at once; `open` always asks the
 * master for the file's attributes (close-to-open). Every method throws FsError whose message names
 * the operation and the path, and whose code is the errno the master or a chunkserver gave.
 *
 *   const fst = new FstClient({ master: 'host:9420' });
 *   await fst.connect();
 *   const h = await fst.open('/a/b', { create: true, truncate: true });
 *   await h.write(0, data); await h.close();
 *   await fst.close();
 */
import { FsError } from '../common/errors/errno.js';
import { toFsError } from '../common/errors/to-errno.js';
import type { ChunkClient } from './chunk-client.js';
import { ClientCore, type ClientCoreOptions } from './core.js';
import { FileHandle, accessMode, type OpenFlags } from './file-handle.js';
import { toFileStat, type FileStat } from './file-stat.js';
import { processCaller, type Identity, type MetaClient, type StatfsResult, type XattrMode } from './meta-client.js';
import { openPath } from './open-path.js';
import { PathResolver, normalizePath } from './path-resolver.js';
import { entryInfo, listDirEntries, mkdirp, removeTree, toTimeChange, type DirEntryInfo, type TimeInput, type TreeDeps } from './tree-ops.js';
import { fst } from './types.js';
import type { SetattrChanges } from './vfs/ops-attr.js';
import type { OpContext } from './vfs/op-context.js';
import type { Vfs } from './vfs/vfs.js';

export type { DirEntryInfo, TimeInput } from './tree-ops.js';

export interface FstClientOptions extends Omit<ClientCoreOptions, 'entryTtlMs' | 'cacheBytes'> {
  /** How long connect() waits for the master to answer. @default 5000 */
  connectTimeoutMs?: number;
  /**
   * How long names and attributes are trusted without asking the master. 0: never, every path is
   * resolved at the master (read-after-write across clients and processes). @default 0
   */
  entryTtlMs?: number;
  /**
   * Bytes of the read cache shared by this client's files. Smaller than the mount's (256 MiB): a
   * path client more often streams a file once than reads it again, and a sequential read of a large
   * file through a 256 MiB cache ran about 10% slower (its blocks live long enough to be collected
   * as old objects). @default 67108864 (64 MiB)
   */
  cacheBytes?: number;
}

/** FstClientOptions.cacheBytes's default. */
const CACHE_BYTES = 64 * 1024 * 1024;

/** One page of FstClient.readdirPage. */
export interface DirPage {
  /** In name order (UTF-8 byte order). */
  entries: DirEntryInfo[];
  /** More entries follow the last one (ask again with `after` set to its name). */
  more: boolean;
}

/** How often a path operation that met an inode gone under it (ESTALE) resolves the path again. */
const STALE_ATTEMPTS = 3;

/**
 * Runs a path operation, adding the operation and path to an error's message (the errno stays). An
 * inode removed or replaced between the path's resolution and the call on it (ESTALE) makes it
 * resolve the path again, as the kernel does.
 */
async function at<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const err = toFsError(e);
      if (err.code === 'ESTALE' && attempt < STALE_ATTEMPTS) continue;
      throw new FsError(err.code, `${op} '${path}': ${err.message}`, { cause: err });
    }
  }
}

export class FstClient {
  /** The client core: connections and the Vfs (shared construction with fst-mount). */
  readonly core: ClientCore;
  readonly resolver: PathResolver;
  /** Who this client's calls act as, for front ends that call the core (`vfs`) by inode. */
  readonly ctx: OpContext;
  private readonly handles = new Set<FileHandle>();
  private readonly tree: TreeDeps;

  constructor(private readonly options: FstClientOptions) {
    this.core = new ClientCore({ ...options, entryTtlMs: options.entryTtlMs ?? 0, cacheBytes: options.cacheBytes ?? CACHE_BYTES });
    const caller = options.caller ?? processCaller();
    this.ctx = { uid: caller.uid, gid: caller.gid, pid: process.pid, groups: caller.groups };
    this.resolver = new PathResolver(this.core.vfs, () => this.core.meta.rootIno);
    const core = this.core;
    this.tree = {
      vfs: core.vfs, resolver: this.resolver, ctx: this.ctx,
      get rootIno() { return core.meta.rootIno; },
    };
  }

  get meta(): MetaClient {
    return this.core.meta;
  }

  get chunks(): ChunkClient {
    return this.core.chunks;
  }

  get vfs(): Vfs {
    return this.core.vfs;
  }

  /** What this client's credential allows (GetIdentity), once connected. */
  get identity(): Identity | undefined {
    return this.core.identity;
  }

  /** Checks that the master answers within connectTimeoutMs; throws ETIMEDOUT otherwise. */
  async connect(): Promise<void> {
    await this.core.connect(this.options.connectTimeoutMs ?? 5000);
  }

  /** Closes every open handle (flushing it), then the core. Throws the first flush error. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([...this.handles].map((h) => h.close()));
    results.push(...(await Promise.allSettled([this.core.close()])));
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
      await this.lstat(path);
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
      return toFileStat(await this.vfs.mkdir(dir.ino, name, mode, this.ctx));
    });
  }

  /** mkdir -p: creates missing directories along `path`; existing directories are fine. */
  mkdirp(path: string, mode = 0o755): Promise<FileStat> {
    return at('mkdir', path, async () => toFileStat(await mkdirp(this.tree, path, mode)));
  }

  /** Every entry of a directory (all pages), in name order, without "." and "..". */
  readdir(path: string, opts: { withAttrs?: boolean } = {}): Promise<DirEntryInfo[]> {
    return at('readdir', path, async () => (await listDirEntries(this.vfs, await this.dirIno(path), opts.withAttrs ?? false)).map(entryInfo));
  }

  /**
   * One page of a directory: the entries after the name `after` (from the first when absent), in
   * name order (UTF-8 byte order), at most `limit` (the master's page, 1,000, when absent; at most
   * 10,000), without "." and "..". Paged at the master by name, so entries made or removed between
   * pages neither repeat nor shift the others.
   */
  readdirPage(path: string, page: { after?: string; limit?: number; withAttrs?: boolean } = {}): Promise<DirPage> {
    return at('readdir', path, async () => {
      const got = await this.vfs.readdirPage(await this.dirIno(path), page);
      return { entries: got.entries.map(entryInfo), more: got.more };
    });
  }

  private async dirIno(path: string): Promise<number> {
    const dir = await this.resolver.resolve(path, true);
    if (dir.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', 'not a directory');
    return dir.ino;
  }

  /** unlink(2). */
  unlink(path: string): Promise<void> {
    return at('unlink', path, async () => {
      const { dir, name } = await this.resolver.resolveParent(path);
      await this.vfs.unlink(dir.ino, name, this.ctx);
    });
  }

  /** rmdir(2). */
  rmdir(path: string): Promise<void> {
    return at('rmdir', path, async () => {
      const { dir, name } = await this.resolver.resolveParent(path);
      await this.vfs.rmdir(dir.ino, name, this.ctx);
    });
  }

  /** rm [-r]: unlinks a file or symlink; a directory needs `recursive` (EISDIR otherwise). */
  rm(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    return at('rm', path, async () => {
      const target = await this.resolver.resolve(path, false);
      if (target.type !== fst.FileType.DIRECTORY) {
        const { dir, name } = await this.resolver.resolveParent(path);
        await this.vfs.unlink(dir.ino, name, this.ctx);
        return;
      }
      if (!opts.recursive) throw new FsError('EISDIR', 'is a directory');
      if (target.ino === this.meta.rootIno) throw new FsError('EBUSY', 'will not remove the root directory');
      await removeTree(this.tree, normalizePath(path), target.ino);
    });
  }

  /** rename(2); with noReplace an existing target fails with EEXIST (RENAME_NOREPLACE). */
  rename(from: string, to: string, opts: { noReplace?: boolean } = {}): Promise<void> {
    return at('rename', from, async () => {
      const src = await this.resolver.resolveParent(from);
      const dst = await this.resolver.resolveParent(to);
      await this.vfs.rename(src.dir.ino, src.name, dst.dir.ino, dst.name, opts.noReplace ? RENAME_NOREPLACE : 0, this.ctx);
    });
  }

  /** link(2): `newPath` becomes another name of `existing` (a final symlink is not followed). */
  link(existing: string, newPath: string): Promise<FileStat> {
    return at('link', newPath, async () => {
      const target = await this.resolver.resolve(existing, false);
      const { dir, name } = await this.resolver.resolveParent(newPath);
      return toFileStat(await this.vfs.link(target.ino, dir.ino, name, this.ctx));
    });
  }

  /** symlink(2): creates `path` pointing to `target` (stored as given). */
  symlink(target: string, path: string): Promise<FileStat> {
    return at('symlink', path, async () => {
      const { dir, name } = await this.resolver.resolveParent(path);
      return toFileStat(await this.vfs.symlink(dir.ino, name, target, this.ctx));
    });
  }

  /** readlink(2). */
  readlink(path: string): Promise<string> {
    return at('readlink', path, async () => {
      const link = await this.resolver.resolve(path, false);
      if (link.type !== fst.FileType.SYMLINK) throw new FsError('EINVAL', 'not a symlink');
      return this.vfs.readlink(link.ino);
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

  /** truncate(2). Pending writes of this client's open handles on the file are sent first. */
  truncate(path: string, size: number): Promise<FileStat> {
    return this.setAttr('truncate', path, { size });
  }

  private setAttr(op: string, path: string, changes: SetattrChanges): Promise<FileStat> {
    return at(op, path, async () => {
      const target = await this.resolver.resolve(path, true);
      return toFileStat(await this.vfs.setattr(target.ino, changes, undefined, this.ctx));
    });
  }

  /** getxattr(2). */
  getxattr(path: string, name: string): Promise<Buffer> {
    return at('getxattr', path, async () => this.vfs.getxattr((await this.resolver.resolve(path)).ino, name));
  }

  /** setxattr(2); `mode` 'create' fails if it exists, 'replace' if it does not. */
  setxattr(path: string, name: string, value: Uint8Array | string, mode: XattrMode = 'any'): Promise<void> {
    const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return at('setxattr', path, async () => this.vfs.setxattr((await this.resolver.resolve(path)).ino, name, bytes, XATTR_FLAGS[mode], this.ctx));
  }

  /** listxattr(2). */
  listxattr(path: string): Promise<string[]> {
    return at('listxattr', path, async () => this.vfs.listxattr((await this.resolver.resolve(path)).ino));
  }

  /** removexattr(2). */
  removexattr(path: string, name: string): Promise<void> {
    return at('removexattr', path, async () => this.vfs.removexattr((await this.resolver.resolve(path)).ino, name, this.ctx));
  }

  /** statfs(2). */
  statfs(): Promise<StatfsResult> {
    return at('statfs', '/', () => this.vfs.statfs());
  }

  /**
   * open(2) of a regular file; `mode` is used when the file is created. The handle is a descriptor
   * of the client's Vfs: handles of one file share its writer, so each sees the others' writes.
   */
  open(path: string, flags: OpenFlags = {}, mode = 0o644): Promise<FileHandle> {
    return at('open', path, async () => {
      const { fh, ino } = await openPath(this.tree, path, flags, mode);
      const handle = new FileHandle(normalizePath(path), ino, fh, accessMode(flags), {
        vfs: this.vfs, ctx: this.ctx, onClose: (h) => this.handles.delete(h),
      }, this.vfs.openState(fh).size);
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

  /**
   * Creates or replaces the content of a file. When it returns, the data is on every replica and
   * committed at the master (what close(2) promises: it survives the loss of any one chunkserver).
   */
  async writeFile(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
    const h = await this.open(path, { create: true, truncate: true, write: true }, mode);
    try {
      await h.write(0, typeof data === 'string' ? Buffer.from(data) : data);
    } finally {
      await h.close();
    }
  }
}

/** renameat2's RENAME_NOREPLACE. */
const RENAME_NOREPLACE = 1;
/** setxattr(2)'s XATTR_CREATE and XATTR_REPLACE. */
const XATTR_FLAGS: Record<XattrMode, number> = { any: 0, create: 1, replace: 2 };
