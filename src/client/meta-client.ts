/**
 * MetaClient: the MasterService as typed methods, one per RPC, each naming the syscall it serves.
 * It only converts arguments and answers (see types.ts); path resolution, caching and write-back
 * live above it, so that the FUSE layer and the path API share one implementation of the protocol.
 * Every method throws FsError with the master's errno.
 */
import { FsError, isErrnoName, type ErrnoName } from '../common/errors/errno.js';
import { RpcClient, type RpcCallOptions, type RpcClientOptions } from '../common/rpc/client.js';
import { MasterMethods } from '../common/rpc/services.js';
import type { MethodDescriptor } from '../common/rpc/service-def.js';
import { INLINE_LIMIT, ROOT_INO } from '../common/ids.js';
import { decodeReaddirManyPages, decodeReaddirPage } from './listing-decoder.js';
import { madeByThisCall, type CreateAsked } from './retried-create.js';
import {
  fst, toAttr, toChunkLocation, toParentAttr, wireNumber,
  type Attr, type Caller, type ChunkLocation, type DirEntry, type Timespec,
} from './types.js';
import type { CallerMap, IdPair } from '../common/caller-map.js';

/** What the master says this client's credential allows (GetIdentity). */
export interface Identity {
  name: string;
  role: string;
  readOnly: boolean;
  /** The subtree it sees as its root. */
  path: string;
  /** That subtree's inode: this client's root directory. */
  rootIno: number;
  callerMap: CallerMap;
}

/** Per-call options: deadline, cancellation and, for calls that check permissions, the caller. */
export interface MetaCallOptions extends RpcCallOptions {
  caller?: Caller;
}

/** What SetAttr should change; absent fields are left alone. 'now' uses the master's clock. */
export interface AttrChanges {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atime?: Timespec | 'now';
  mtime?: Timespec | 'now';
  ctime?: Timespec;
  /** Through a descriptor opened for writing (ftruncate): no write permission check now. */
  writeHandle?: boolean;
}

export interface MknodOptions {
  type?: fst.FileType;
  rdev?: number;
  /** O_EXCL: fail with EEXIST instead of returning an existing file. */
  exclusive?: boolean;
}

/**
 * What a call that adds or removes a name answers besides its own result: the directory's
 * attributes as committed with the change (NFS "wcc data"), so that a cache can keep the directory
 * instead of asking again. Undefined from a master that predates the field: forget the directory.
 */
export interface ParentChange {
  parentAttr: Attr | undefined;
}

/** mknod, mkdir, symlink: the new inode and its directory after the change. */
export interface Created extends ParentChange {
  attr: Attr;
}

/** unlink: the links left on the inode (0 = freed) and the directory after the change. */
export interface Unlinked extends ParentChange {
  nlink: number;
}

/** rename: both directories after the change (the same attributes twice when they are one). */
export interface Renamed extends ParentChange {
  newParentAttr: Attr | undefined;
  /** The new name named something, which was replaced (false from masters that do not say). */
  replaced: boolean;
}

/** link: the inode (new nlink and ctime) and the new name's directory after the change. */
export interface Linked {
  attr: Attr;
  newParentAttr: Attr | undefined;
}

export interface ReaddirPage {
  entries: DirEntry[];
  more: boolean;
  /** The directory's change_seq when the page was read. */
  changeSeq: number;
}

export interface ReaddirManyResult {
  pages: Map<number, ReaddirPage>;
  /** Subdirectories found and not listed (with `descend`), in walk order. */
  unlisted: number[];
}

export interface LocateResult {
  size: number;
  chunks: ChunkLocation[];
  /** The whole data of a file kept inline in the metadata (then `chunks` is empty): read it, then zeros up to `size`. */
  inline?: Buffer;
}

/** A file's attributes and, for one kept inline in the metadata, its bytes. */
export interface AttrWithData {
  attr: Attr;
  /** The inline bytes (zeros follow up to the size); undefined: in chunks, or nothing written. */
  inline: Buffer | undefined;
}

export interface ChunkAllocation {
  loc: ChunkLocation;
  /** The chunk is new. */
  created: boolean;
  /** How long the primary's lease runs from the answer (0: the master grants none). */
  leaseMs: number;
}

export interface StatfsResult {
  totalBytes: number;
  freeBytes: number;
  files: number;
  chunkSize: number;
}

export type XattrMode = 'any' | 'create' | 'replace';

/** The identity of this process, the default caller of every request. */
export function processCaller(): Caller {
  return {
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    groups: process.getgroups?.() ?? [],
  };
}

const F = fst.SetAttrField;

/** The SetAttr request of a set of changes (a field is applied only when its bit is set). */
export function setAttrRequest(ino: number, c: AttrChanges, caller: Caller): fst.ISetAttrRequest {
  const req: fst.ISetAttrRequest = { ino, caller, fields: 0 };
  let fields = 0;
  if (c.mode !== undefined) { fields |= F.SET_ATTR_MODE; req.mode = c.mode & 0o7777; }
  if (c.uid !== undefined) { fields |= F.SET_ATTR_UID; req.uid = c.uid; }
  if (c.gid !== undefined) { fields |= F.SET_ATTR_GID; req.gid = c.gid; }
  if (c.size !== undefined) { fields |= F.SET_ATTR_SIZE; req.size = c.size; }
  if (c.atime === 'now') fields |= F.SET_ATTR_ATIME_NOW;
  else if (c.atime) { fields |= F.SET_ATTR_ATIME; req.atime = c.atime; }
  if (c.mtime === 'now') fields |= F.SET_ATTR_MTIME_NOW;
  else if (c.mtime) { fields |= F.SET_ATTR_MTIME; req.mtime = c.mtime; }
  if (c.ctime) { fields |= F.SET_ATTR_CTIME; req.ctime = c.ctime; }
  if (c.writeHandle) req.writeHandle = true;
  req.fields = fields;
  return req;
}

const xattrFlag: Record<XattrMode, fst.XattrFlag> = {
  any: fst.XattrFlag.XATTR_ANY,
  create: fst.XattrFlag.XATTR_CREATE,
  replace: fst.XattrFlag.XATTR_REPLACE,
};

/** A directory the master delegated to this session, and its change_seq at the grant. */
export interface DirGrant {
  dir: number;
  changeSeq: number;
  /** Attributes of its entries read from now on stay exact while it is held (DirGrant.attrs). */
  attrs: boolean;
}

export interface DelegateResult {
  granted: DirGrant[];
  /** Reserved inode numbers [firstIno, firstIno + inoCount). */
  firstIno: number;
  inoCount: number;
  leaseMs: number;
  /** The master's clock when it answered (ms since the epoch). */
  masterNowMs: number;
  /** The master process's delegation table (DelegateResponse.epoch). */
  epoch: string;
}

/** One failed change of a batch: its index and error. */
export interface ChangeFailure {
  index: number;
  error: FsError;
}

/** What a call waits for: every change this mount queued, or given a scope only those touching its inodes. */
export type Barrier = (scope?: Iterable<number>) => Promise<void> | undefined;

/** The inode numbers of a listing's entries, gathered only when iterated. */
function* entryInos(entries: Iterable<DirEntry>): Iterable<number> {
  for (const e of entries) yield e.ino;
}

/** Readdir and ReaddirMany with their answers decoded straight into DirEntry (listing-decoder.ts). */
const READDIR = { ...MasterMethods.Readdir, deserializeResponse: decodeReaddirPage };
const READDIR_MANY = { ...MasterMethods.ReaddirMany, deserializeResponse: decodeReaddirManyPages };

export class MetaClient {
  readonly rpc: RpcClient;
  private readonly caller: Caller;
  /** This client's session, for directory delegations (empty: none). */
  readonly session: string;
  /** What every call waits for first (a mount's changes not yet applied, change-queue.ts). */
  private barrier: Barrier | undefined;
  /**
   * This client's root directory: the whole tree's, or the subtree its credential is confined to
   * (set from GetIdentity by FstClient.connect).
   */
  rootIno: number = ROOT_INO;

  constructor(readonly address: string, options: RpcClientOptions & { caller?: Caller; session?: string } = {}) {
    this.rpc = new RpcClient(address, options);
    this.caller = options.caller ?? processCaller();
    this.session = options.session ?? '';
  }

  /** Makes every call but the delegation calls wait for `barrier` (when it returns a promise). */
  setBarrier(barrier: Barrier): void {
    this.barrier = barrier;
  }

  /**
   * A unary call after the barrier, with this client's session (the namespace requests carry a
   * `session` field; on the others it is not a field, and encoding ignores it). With a `scope`, it
   * waits only for the queued changes touching those inodes.
   */
  private call<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'unary'>, request: ReqI, opts: RpcCallOptions = {}, scope?: Iterable<number>,
  ): Promise<Res> {
    if (this.session !== '') (request as { session?: string }).session = this.session;
    const wait = this.barrier?.(scope);
    return wait ? wait.then(() => this.rpc.unary(m, request, opts)) : this.rpc.unary(m, request, opts);
  }

  /**
   * A read of the listings `scope` names: waits only for the queued changes touching them. An
   * answer naming another inode a queued change touches (an entry renamed or removed, a
   * subdirectory changed) may show it as it was: then it is read again after them all. `named`
   * is iterated only while changes are queued.
   */
  private async read<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'unary'>, request: ReqI, opts: RpcCallOptions, scope: Iterable<number>, named: (res: Res) => Iterable<number>,
  ): Promise<Res> {
    const res = await this.call(m, request, opts, scope);
    return this.barrier?.(named(res)) ? this.call(m, request, opts) : res;
  }

  /** Takes and gives back directories, and reserves inode numbers (see DelegateRequest). */
  async delegate(acquire: readonly number[], release: readonly number[], reserveInos: number, opts: RpcCallOptions = {}): Promise<DelegateResult> {
    const res = await this.rpc.unary(MasterMethods.Delegate, { session: this.session, acquire: [...acquire], release: [...release], reserveInos }, opts);
    return {
      granted: res.granted.map((g) => ({ dir: wireNumber(g.dir, 'dir'), changeSeq: wireNumber(g.changeSeq, 'change_seq'), attrs: g.attrs === true })),
      firstIno: wireNumber(res.firstIno, 'first_ino'), inoCount: res.inoCount, leaseMs: res.leaseMs,
      masterNowMs: res.now ? wireNumber(res.now.sec) * 1000 + Math.floor((res.now.nsec ?? 0) / 1e6) : Date.now(),
      epoch: res.epoch,
    };
  }

  /** Sends changes answered in delegated directories; answers those that failed and the directories recalled. */
  async applyChanges(changes: fst.IChange[], opts: RpcCallOptions = {}): Promise<{ failures: ChangeFailure[]; recalled: number[]; epoch: string }> {
    const res = await this.rpc.unary(MasterMethods.ApplyChanges, { session: this.session, changes }, opts);
    const failures: ChangeFailure[] = [];
    res.results.forEach((r, index) => {
      if (r.errno) failures.push({ index, error: new FsError(isErrnoName(r.errno) ? r.errno : 'EIO', r.message ?? '') });
    });
    return { failures, recalled: res.recalled.map((d) => wireNumber(d, 'dir')), epoch: res.epoch };
  }

  /** Waits up to `waitMs` for the master to ask back some of this session's directories. */
  async awaitRecall(waitMs: number, opts: RpcCallOptions = {}): Promise<{ recalled: number[]; epoch: string }> {
    const res = await this.rpc.unary(MasterMethods.AwaitRecall, { session: this.session, waitMs }, { timeoutMs: waitMs + 10_000, ...opts });
    return { recalled: res.recalled.map((d) => wireNumber(d, 'dir')), epoch: res.epoch };
  }

  private who(opts: MetaCallOptions): Caller {
    return opts.caller ?? this.caller;
  }

  /** lookup: the attributes of `name` in directory `parent`. */
  async lookup(parent: number, name: string, opts: MetaCallOptions = {}): Promise<Attr> {
    const res = await this.call(MasterMethods.Lookup, { parent, name }, opts);
    return toAttr(res.attr, 'Lookup');
  }

  /** stat(2) by inode. */
  async getAttr(ino: number, opts: MetaCallOptions = {}): Promise<Attr> {
    const res = await this.call(MasterMethods.GetAttr, { ino }, opts);
    return toAttr(res.attr, 'GetAttr');
  }

  /** stat(2) plus a small file's inline bytes: what open needs to read the file with no other call. */
  async getAttrWithData(ino: number, opts: MetaCallOptions = {}): Promise<AttrWithData> {
    const res = await this.call(MasterMethods.GetAttr, { ino, withData: true }, opts);
    return { attr: toAttr(res.attr, 'GetAttr'), inline: res.inline ? bufferOf(res.inlineData) : undefined };
  }

  private inlineMaxAnswer: Promise<number> | undefined;

  /** The largest file the master keeps inline (asked once per client; 0 when it keeps none). */
  inlineMax(opts: MetaCallOptions = {}): Promise<number> {
    this.inlineMaxAnswer ??= this.call(MasterMethods.Statfs, {}, opts).then(
      (res) => Math.min(INLINE_LIMIT, wireNumber(res.inlineMax)),
      (e: unknown) => {
        this.inlineMaxAnswer = undefined;
        throw e;
      },
    );
    return this.inlineMaxAnswer;
  }

  /**
   * The whole content of a small file, kept in the metadata. EXDEV: the file keeps its data in
   * chunks; ESTALE: it changed since `expectCtime` (read it again); EFBIG: over the master's limit.
   */
  async writeInline(ino: number, data: Buffer, o: { sync?: boolean; expectCtime?: Timespec } = {}, opts: MetaCallOptions = {}): Promise<Attr> {
    const req: fst.IWriteInlineRequest = { ino, data, sync: o.sync ?? false };
    if (o.expectCtime) req.expectCtime = o.expectCtime;
    const res = await this.call(MasterMethods.WriteInline, req, opts);
    return toAttr(res.attr, 'WriteInline');
  }

  /** chmod, chown, truncate, utimensat: applies `changes`, returns the new attributes. */
  async setAttr(ino: number, changes: AttrChanges, opts: MetaCallOptions = {}): Promise<Attr> {
    const res = await this.call(MasterMethods.SetAttr, setAttrRequest(ino, changes, this.who(opts)), opts);
    return toAttr(res.attr, 'SetAttr');
  }

  /** fallocate PUNCH_HOLE's whole chunks inside [offset, offset + length): dropped at the master. */
  async punchHole(ino: number, offset: number, length: number, opts: MetaCallOptions = {}): Promise<Attr> {
    const res = await this.call(MasterMethods.PunchHole, { ino, offset, length, caller: this.who(opts) }, opts, [ino]);
    return toAttr(res.attr, 'PunchHole');
  }

  /** mknod(2) / open(O_CREAT): a regular file by default. */
  async mknod(parent: number, name: string, mode: number, o: MknodOptions = {}, opts: MetaCallOptions = {}): Promise<Created & { created: boolean }> {
    const type = o.type ?? fst.FileType.REGULAR;
    const caller = this.who(opts);
    return this.creating(parent, name, { type, mode, uid: caller.uid }, opts, async (callOpts) => {
      const res = await this.call(MasterMethods.Mknod, {
        parent, name, mode: mode & 0o7777, type, rdev: o.rdev ?? 0, exclusive: o.exclusive ?? false, caller,
      }, callOpts);
      return { attr: toAttr(res.attr, 'Mknod'), created: res.created, parentAttr: toParentAttr(res.parentAttr, 'Mknod') };
    });
  }

  /** mkdir(2). */
  async mkdir(parent: number, name: string, mode: number, opts: MetaCallOptions = {}): Promise<Created> {
    const caller = this.who(opts);
    return this.creating(parent, name, { type: fst.FileType.DIRECTORY, mode, uid: caller.uid }, opts, async (callOpts) => {
      const res = await this.call(MasterMethods.Mkdir, { parent, name, mode: mode & 0o7777, caller }, callOpts);
      return { attr: toAttr(res.attr, 'Mkdir'), parentAttr: toParentAttr(res.parentAttr, 'Mkdir') };
    });
  }

  /**
   * Runs a create; when it answers EEXIST after a retry whose first attempt may have been applied,
   * the entry is looked up and taken as this call's own if it is (retried-create.ts). The parent's
   * attributes are then unknown.
   */
  private async creating<T extends Created & { created?: boolean }>(
    parent: number, name: string, asked: Omit<CreateAsked, 'sentAtMs'>, opts: MetaCallOptions, run: (o: MetaCallOptions) => Promise<T>,
  ): Promise<T> {
    const sentAtMs = Date.now();
    return this.retriedAs(opts, 'EEXIST', run, async () => {
      const found = await this.lookup(parent, name, opts);
      return madeByThisCall(found, { ...asked, sentAtMs }) ? ({ attr: found, created: true, parentAttr: undefined } as T) : undefined;
    });
  }

  /**
   * Runs a mutation; when it fails with `code` after a retry whose first attempt may have been
   * applied (the master killed or cut off, or its database lost, after the request went out:
   * RpcCallOptions.delivery), `recover` decides whether that first attempt did what was asked and
   * answers in its stead, or answers undefined (the failure stands). As NFSv3 clients do without a
   * duplicate request cache: a removal retried after an applied first attempt finds the name gone.
   */
  private async retriedAs<T>(opts: MetaCallOptions, code: ErrnoName, run: (o: MetaCallOptions) => Promise<T>, recover: () => Promise<T | undefined>): Promise<T> {
    const delivery = { maybeApplied: false };
    try {
      return await run({ ...opts, delivery });
    } catch (e) {
      if (!delivery.maybeApplied || !(e instanceof FsError) || e.code !== code) throw e;
      const answer = await recover().catch(() => undefined);
      if (answer === undefined) throw e;
      return answer;
    }
  }

  /**
   * unlink(2); answers the links left on the inode. `keepIno`: this client has that inode open, so
   * if it loses its last link here the master keeps it as an orphan (see updateOrphans). Retried
   * after an attempt that may have been applied, ENOENT is that attempt's success (the links left
   * then unknown: 0, so that a kept inode is released at its last close).
   */
  async unlink(parent: number, name: string, opts: MetaCallOptions & { keepIno?: number } = {}): Promise<Unlinked> {
    return this.retriedAs(opts, 'ENOENT', async (o) => {
      const res = await this.call(MasterMethods.Unlink, { parent, name, caller: this.who(opts), keepIno: opts.keepIno ?? 0 }, o);
      return { nlink: res.nlink, parentAttr: toParentAttr(res.parentAttr, 'Unlink') };
    }, () => Promise.resolve({ nlink: 0, parentAttr: undefined }));
  }

  /** rmdir(2). Retried after an attempt that may have been applied, ENOENT is that attempt's success. */
  async rmdir(parent: number, name: string, opts: MetaCallOptions = {}): Promise<ParentChange> {
    return this.retriedAs(opts, 'ENOENT', async (o) => {
      const res = await this.call(MasterMethods.Rmdir, { parent, name, caller: this.who(opts) }, o);
      return { parentAttr: toParentAttr(res.parentAttr, 'Rmdir') };
    }, () => Promise.resolve({ parentAttr: undefined }));
  }

  /**
   * rename(2); with noReplace, renameat2(RENAME_NOREPLACE); `keepIno` as for unlink, for a replaced
   * target. Retried after an attempt that may have been applied, ENOENT (the old name gone) is that
   * attempt's success when the new name is there.
   */
  async rename(parent: number, name: string, newParent: number, newName: string, noReplace = false, opts: MetaCallOptions & { keepIno?: number } = {}): Promise<Renamed> {
    return this.retriedAs(opts, 'ENOENT', async (o) => {
      const res = await this.call(MasterMethods.Rename, {
        parent, name, newParent, newName, noReplace, caller: this.who(opts), keepIno: opts.keepIno ?? 0,
      }, o);
      return { parentAttr: toParentAttr(res.parentAttr, 'Rename'), newParentAttr: toParentAttr(res.newParentAttr, 'Rename'), replaced: res.replaced === true };
    }, async () => {
      await this.lookup(newParent, newName, opts);
      return { parentAttr: undefined, newParentAttr: undefined, replaced: false };
    });
  }

  /** link(2): a new name for `ino`. Retried after an attempt that may have been applied, EEXIST is its success when the name names `ino`. */
  async link(ino: number, newParent: number, newName: string, opts: MetaCallOptions = {}): Promise<Linked> {
    return this.retriedAs(opts, 'EEXIST', async (o) => {
      const res = await this.call(MasterMethods.Link, { ino, newParent, newName, caller: this.who(opts) }, o);
      return { attr: toAttr(res.attr, 'Link'), newParentAttr: toParentAttr(res.newParentAttr, 'Link') };
    }, async () => {
      const found = await this.lookup(newParent, newName, opts);
      return found.ino === ino ? { attr: found, newParentAttr: undefined } : undefined;
    });
  }

  /** symlink(2). */
  async symlink(parent: number, name: string, target: string, opts: MetaCallOptions = {}): Promise<Created> {
    const caller = this.who(opts);
    const asked = { type: fst.FileType.SYMLINK, mode: 0o777, uid: caller.uid, size: Buffer.byteLength(target) };
    return this.creating(parent, name, asked, opts, async (callOpts) => {
      const res = await this.call(MasterMethods.Symlink, { parent, name, target, caller }, callOpts);
      return { attr: toAttr(res.attr, 'Symlink'), parentAttr: toParentAttr(res.parentAttr, 'Symlink') };
    });
  }

  /** readlink(2). */
  async readlink(ino: number, opts: MetaCallOptions = {}): Promise<string> {
    const res = await this.call(MasterMethods.Readlink, { ino }, opts);
    return res.target;
  }

  /** One page of getdents(2): entries after `after`, in name order. */
  async readdir(ino: number, page: { after?: string; limit?: number; withAttrs?: boolean } = {}, opts: MetaCallOptions = {}): Promise<ReaddirPage> {
    return this.read(READDIR, {
      ino, after: page.after ?? '', limit: page.limit ?? 0, withAttrs: page.withAttrs ?? false,
    }, opts, [ino], (r) => entryInos(r.entries));
  }

  /**
   * The first pages (with attributes) of the directories `inos`, those the master could list at
   * once (ReaddirMany: a read-ahead, which leaves out what it cannot answer without waiting). With
   * `descend`, also of the subdirectories they name, depth first, until `total` entries; `unlisted`
   * are the subdirectories found and not listed, in the order a walk reaches them.
   */
  async readdirMany(inos: number[], limits: { perDir: number; total: number; descend?: boolean }, opts: MetaCallOptions = {}): Promise<ReaddirManyResult> {
    return this.read(READDIR_MANY, { inos, limit: limits.perDir, maxEntries: limits.total, descend: limits.descend ?? false }, opts, inos,
      function* (r) { for (const p of r.pages.values()) yield* entryInos(p.entries); });
  }

  /** What this client's credential allows: read-only, the caller map (root squash, map-all). */
  async getIdentity(opts: MetaCallOptions = {}): Promise<Identity> {
    const res = await this.call(MasterMethods.GetIdentity, {}, opts);
    const pair = (set: boolean | null | undefined, c: fst.ICaller | null | undefined): IdPair | undefined =>
      (set ? { uid: c?.uid ?? 0, gid: c?.gid ?? 0 } : undefined);
    return {
      name: res.name, role: res.role, readOnly: res.readOnly, path: res.path || '/', rootIno: wireNumber(res.rootIno, 'root inode') || ROOT_INO,
      callerMap: { root: pair(res.squashRoot, res.rootAs), all: pair(res.mapAll, res.allAs) },
    };
  }

  /**
   * One Lock call (file locks shared by all mounts, master/locks/lock-table.ts). Not behind the
   * barrier: a lock names an inode, not a directory entry, and must not wait for queued changes.
   */
  lock(request: fst.ILockRequest, opts: MetaCallOptions = {}): Promise<fst.LockResponse> {
    return this.rpc.unary(MasterMethods.Lock, request, opts);
  }

  /** statfs(2). */
  async statfs(opts: MetaCallOptions = {}): Promise<StatfsResult> {
    const res = await this.call(MasterMethods.Statfs, {}, opts);
    return {
      totalBytes: wireNumber(res.totalBytes), freeBytes: wireNumber(res.freeBytes),
      files: wireNumber(res.files), chunkSize: wireNumber(res.chunkSize),
    };
  }

  /** getxattr(2). */
  async getXattr(ino: number, name: string, opts: MetaCallOptions = {}): Promise<Buffer> {
    const res = await this.call(MasterMethods.GetXattr, { ino, name }, opts);
    return Buffer.from(res.value.buffer, res.value.byteOffset, res.value.byteLength);
  }

  /** setxattr(2); `mode` is XATTR_CREATE / XATTR_REPLACE or neither. */
  async setXattr(ino: number, name: string, value: Uint8Array, mode: XattrMode = 'any', opts: MetaCallOptions = {}): Promise<void> {
    await this.call(MasterMethods.SetXattr, { ino, name, value, flags: xattrFlag[mode], caller: this.who(opts) }, opts);
  }

  /** listxattr(2). */
  async listXattr(ino: number, opts: MetaCallOptions = {}): Promise<string[]> {
    const res = await this.call(MasterMethods.ListXattr, { ino }, opts);
    return res.names;
  }

  /** removexattr(2). */
  async removeXattr(ino: number, name: string, opts: MetaCallOptions = {}): Promise<void> {
    await this.call(MasterMethods.RemoveXattr, { ino, name, caller: this.who(opts) }, opts);
  }

  /** The file size and the chunks overlapping [offset, offset + length); absent indexes are holes. */
  async locateChunks(ino: number, offset: number, length: number, opts: MetaCallOptions = {}): Promise<LocateResult> {
    const res = await this.call(MasterMethods.LocateChunks, { ino, offset, length }, opts);
    const located: LocateResult = { size: wireNumber(res.size, 'size'), chunks: res.chunks.map(toChunkLocation) };
    if (res.inline) located.inline = bufferOf(res.inlineData);
    return located;
  }

  /**
   * A chunk to write, its chain (the lease-holding primary first) and how long the lease has left
   * (0 from a master without leases). `failedVersion`: the last write at that version failed in its chain,
   * so the master forms a new replica set; that may wait for an unreachable primary's lease.
   */
  async allocateChunk(ino: number, index: number, opts: MetaCallOptions & { failedVersion?: number } = {}): Promise<ChunkAllocation> {
    const res = await this.call(MasterMethods.AllocateChunk, { ino, index, failedVersion: opts.failedVersion ?? 0 }, opts);
    if (!res.chunk) throw new FsError('EIO', 'AllocateChunk: no chunk in the answer');
    return { loc: toChunkLocation(res.chunk), created: res.created === true, leaseMs: res.leaseMs ?? 0 };
  }

  /** Publishes durable data: the size grows to `end` if larger, mtime is set; `sync`: on the master's disk when answered. */
  async commitWrite(ino: number, end: number, mtime: Timespec | undefined, opts: MetaCallOptions & { sync?: boolean } = {}): Promise<Attr> {
    const req: fst.ICommitWriteRequest = { ino, end, sync: opts.sync ?? false };
    if (mtime) req.mtime = mtime;
    const res = await this.call(MasterMethods.CommitWrite, req, opts);
    return toAttr(res.attr, 'CommitWrite');
  }

  /** Returns once every change the master committed so far is on its disk (fsync). */
  async syncMetadata(opts: MetaCallOptions = {}): Promise<void> {
    await this.call(MasterMethods.SyncMetadata, {}, opts);
  }

  /**
   * Orphans this client keeps open (files removed while open): renews `keep`, frees `release`.
   * Answers the inodes of `keep` that are no orphans any more.
   */
  async updateOrphans(keep: readonly number[], release: readonly number[], opts: MetaCallOptions = {}): Promise<number[]> {
    const res = await this.call(MasterMethods.UpdateOrphans, { keep: [...keep], release: [...release] }, opts);
    return res.gone.map((g) => wireNumber(g, 'ino'));
  }

  close(): void {
    this.rpc.close();
  }
}

/** A decoded bytes field as a Buffer, without copying. */
function bufferOf(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
