/**
 * MasterService handlers: argument checks, then one call into the namespace or the chunk manager.
 * Truncation is the one operation that needs both: the chunk holding the new end of file is cut on
 * the chunkservers first, then the namespace updates the size and drops chunks past it.
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { CallContext, ServiceHandlers } from '../../common/rpc/server.js';
import { identityOf } from '../security/authorize.js';
import type { ChunkTokenSigner } from '../security/chunk-tokens.js';
import type { MasterMethods } from '../../common/rpc/services.js';
import type { ChunkManager } from '../chunks/chunk-manager.js';
import type { Namespace } from '../tree/namespace.js';
import type { Delegations } from '../sessions/delegations.js';
import { applyChanges } from './apply-changes.js';
import { LockTable } from '../locks/lock-table.js';
import { lock } from './lock-rpc.js';
import { readdirMany } from './readdir-many.js';
import { callerArg, inoArg, nameArg, optionalIno } from './request-checks.js';

const SET_ATTR_SIZE = 8;

export function masterServiceHandlers(
  ns: Namespace,
  chunks: ChunkManager,
  totals: () => { capacity: number; free: number },
  /** Largest file kept inline (`--inline-max`); 0: none. */
  inlineMax = 0,
  delegations?: Delegations,
  /** GetIdentity's answer for a call (what the caller's credential allows). */
  identity: (ctx: CallContext) => Promise<fst.IGetIdentityResponse> = () => Promise.resolve(identityOf(undefined)),
  /** Signs the chunk access tokens of the locations handed out; undefined: none (insecure). */
  tokens?: ChunkTokenSigner,
  /** flock and fcntl locks of the mounts. */
  locks: LockTable = new LockTable(),
): ServiceHandlers<typeof MasterMethods> {
  /**
   * Runs a call in directories `dirs` once no other session holds them (sessions/delegations.ts);
   * `mutates`: it changes their entries. Without delegations (tests of the handlers alone) it just runs.
   */
  const inDirs = <T>(session: string | null | undefined, dirs: number[], mutates: boolean, call: () => Promise<T>): Promise<T> =>
    // A read has nothing to wait for while nothing is delegated (every Lookup and GetAttr passes here).
    delegations && (mutates || delegations.any) ? delegations.during(session ?? '', dirs, mutates, call) : call();
  /**
   * A call about inode `ino`: one that another mount made and has not sent yet (its number came to
   * the caller from that mount, e.g. through the kernel) is asked again once that mount sent it.
   */
  const onIno = async <T>(session: string | null | undefined, ino: number, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (e) {
      const flushed = e instanceof FsError && e.code === 'ENOENT' ? delegations?.flushMaker(session ?? '', ino) : undefined;
      if (!flushed) throw e;
      await flushed;
      return call();
    }
  };
  /**
   * A call about inode `ino` itself (its attributes or data): a directory naming it that another
   * session holds is recalled first, since its holder may answer attribute changes of the inodes
   * named there itself (ApplyChanges `setattr`). `changes`: the call changes the inode; counted
   * while it runs (Delegations.changingInode).
   */
  const aboutIno = <T>(session: string | null | undefined, ino: number, changes: boolean, call: () => Promise<T>): Promise<T> => {
    if (!delegations) return call();
    const s = session ?? '';
    const run = async (): Promise<T> => {
      if (!delegations.heldByOthers(s)) return call();
      return delegations.during(s, await ns.namingDirs(ino), false, call);
    };
    return changes ? delegations.changingInode(s, run) : run();
  };
  /** Directories named by `names` in `parent` that another session holds (a removed or replaced one). */
  const heldChildren = async (session: string | null | undefined, parent: number, names: string[]): Promise<number[]> => {
    if (!delegations?.any) return [];
    const held: number[] = [];
    for (const name of names) {
      const child = await ns.lookup(parent, name).catch(() => undefined);
      if (child?.ino && delegations.heldByOther(session ?? '', Number(child.ino))) held.push(Number(child.ino));
    }
    return held;
  };
  return {
    Lookup: async (r) => {
      const parent = inoArg(r.parent, 'parent');
      return inDirs(r.session, [parent], false, async () => ({ attr: await ns.lookup(parent, nameArg(r.name)) }));
    },
    GetAttr: async (r) => {
      const ino = inoArg(r.ino);
      return onIno(r.session, ino, () => aboutIno(r.session, ino, false, () => inDirs(r.session, [ino], false, async () => (r.withData ? ns.getattrWithData(ino) : { attr: await ns.getattr(ino) }))));
    },
    SetAttr: async (r) => {
      const ino = inoArg(r.ino);
      if (r.fields & SET_ATTR_SIZE) {
        if (!Number.isSafeInteger(r.size) || r.size < 0) throw new FsError('EINVAL', `invalid size ${r.size}`);
        return aboutIno(r.session, ino, true, async () => ({ attr: await chunks.truncate(ino, r.size, () => ns.setattr(ino, r, callerArg(r.caller))) }));
      }
      return onIno(r.session, ino, () => aboutIno(r.session, ino, true, () => inDirs(r.session, [ino], true, async () => ({ attr: await ns.setattr(ino, r, callerArg(r.caller)) }))));
    },
    // Namespace mutations answer with their response's fields, the parents' attributes included.
    Mknod: async (r) => {
      const parent = inoArg(r.parent, 'parent');
      return inDirs(r.session, [parent], true, () => ns.mknod(parent, nameArg(r.name), r.type, r.mode, r.rdev, callerArg(r.caller), r.exclusive));
    },
    Mkdir: async (r) => {
      const parent = inoArg(r.parent, 'parent');
      return inDirs(r.session, [parent], true, () => ns.mkdir(parent, nameArg(r.name), r.mode, callerArg(r.caller)));
    },
    Unlink: async (r) => {
      const parent = inoArg(r.parent, 'parent');
      return inDirs(r.session, [parent], true, () => ns.unlink(parent, nameArg(r.name), callerArg(r.caller), optionalIno(r.keepIno)));
    },
    Rmdir: async (r) => {
      const parent = inoArg(r.parent, 'parent');
      const name = nameArg(r.name);
      // A directory another mount holds may hold names it has not sent yet: recalled first.
      const dirs = [parent, ...(await heldChildren(r.session, parent, [name]))];
      return inDirs(r.session, dirs, true, () => ns.rmdir(parent, name, callerArg(r.caller)));
    },
    Rename: async (r) => {
      const parent = inoArg(r.parent, 'parent');
      const newParent = inoArg(r.newParent, 'new_parent');
      const name = nameArg(r.name);
      const newName = nameArg(r.newName, 'new_name');
      const dirs = [parent, newParent, ...(await heldChildren(r.session, newParent, [newName]))];
      return inDirs(r.session, dirs, true, () => ns.rename(parent, name, newParent, newName, r.noReplace, callerArg(r.caller), optionalIno(r.keepIno)));
    },
    Link: async (r) => {
      const newParent = inoArg(r.newParent, 'new_parent');
      const ino = inoArg(r.ino);
      return aboutIno(r.session, ino, true, () => inDirs(r.session, [newParent], true, () => ns.link(ino, newParent, nameArg(r.newName, 'new_name'), callerArg(r.caller))));
    },
    Symlink: async (r) => {
      const parent = inoArg(r.parent, 'parent');
      return inDirs(r.session, [parent], true, () => ns.symlink(parent, nameArg(r.name), nameArg(r.target, 'target'), callerArg(r.caller)));
    },
    Readlink: async (r) => {
      const ino = inoArg(r.ino);
      return onIno(undefined, ino, async () => ({ target: await ns.readlink(ino) }));
    },
    Readdir: async (r) => {
      const ino = inoArg(r.ino);
      return onIno(r.session, ino, () => inDirs(r.session, [ino], false, () => ns.readdir(ino, r.after, r.limit, r.withAttrs)));
    },
    ReaddirMany: (r) => readdirMany(ns, delegations, r),
    Statfs: async () => {
      const counts = await ns.statfsCounts();
      const t = totals();
      return { totalBytes: t.capacity, freeBytes: t.free, files: counts.files + counts.directories, chunkSize: 64 * 1024 * 1024, inlineMax };
    },
    GetXattr: async (r) => ({ value: await ns.getxattr(inoArg(r.ino), nameArg(r.name)) }),
    SetXattr: async (r) => {
      const ino = inoArg(r.ino);
      await aboutIno(r.session, ino, true, () => ns.setxattr(ino, nameArg(r.name), Buffer.from(r.value), r.flags, callerArg(r.caller)));
      return {};
    },
    ListXattr: async (r) => ({ names: await ns.listxattr(inoArg(r.ino)) }),
    RemoveXattr: async (r) => {
      const ino = inoArg(r.ino);
      await aboutIno(r.session, ino, true, () => ns.removexattr(ino, nameArg(r.name), callerArg(r.caller)));
      return {};
    },
    LocateChunks: async (r) => {
      const res = await chunks.locate(inoArg(r.ino), r.offset, r.length);
      tokens?.sign(res.chunks ?? [], false);
      return res;
    },
    AllocateChunk: async (r) => {
      const res = await chunks.allocate(inoArg(r.ino), r.index, r.failedVersion);
      tokens?.sign([res.chunk], true);
      return res;
    },
    CommitWrite: async (r) => {
      const ino = inoArg(r.ino);
      return aboutIno(r.session, ino, true, async () => ({ attr: await chunks.commitWrite(ino, r.end, r.mtime as fst.ITimespec | null, r.sync) }));
    },
    SyncMetadata: async () => {
      await ns.syncMetadata();
      return {};
    },
    WriteInline: async (r) => {
      const data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      const expectCtime = r.expectCtime ? { sec: Number(r.expectCtime.sec), nsec: r.expectCtime.nsec ?? 0 } : undefined;
      const ino = inoArg(r.ino);
      return aboutIno(r.session, ino, true, async () => ({ attr: await ns.writeInline({ ino, data, expectCtime, maxBytes: inlineMax }, r.sync) }));
    },
    Delegate: async (r) => {
      if (!delegations) throw new FsError('ENOSYS', 'this master delegates no directories');
      if (r.session === '') throw new FsError('EINVAL', 'Delegate needs a session');
      if (r.acquire.length + r.release.length > 10_000) throw new FsError('EINVAL', 'too many directories in one call');
      if (r.reserveInos > 65_536) throw new FsError('EINVAL', `cannot reserve ${r.reserveInos} inode numbers at once`);
      delegations.release(r.session, r.release.map((d) => inoArg(d, 'release')));
      const granted: fst.IDirGrant[] = [];
      for (const dir of delegations.acquire(r.session, r.acquire.map((d) => inoArg(d, 'acquire')))) {
        const attrs = delegations.attrsExactFor(r.session);
        const attr = await ns.getattr(dir).catch(() => undefined);
        if (attr?.type === fst.FileType.DIRECTORY) granted.push({ dir, changeSeq: attr.changeSeq ?? 0, attrs });
        else delegations.release(r.session, [dir]);
      }
      const firstIno = r.reserveInos > 0 ? await ns.reserveInos(r.reserveInos) : 0;
      if (firstIno) delegations.reservedFor(r.session, firstIno, r.reserveInos);
      const now = Date.now();
      return {
        granted, firstIno, inoCount: firstIno ? r.reserveInos : 0, leaseMs: delegations.leaseMs, epoch: delegations.epoch,
        now: { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000 },
      };
    },
    ApplyChanges: async (r) => {
      if (!delegations) throw new FsError('ENOSYS', 'this master delegates no directories');
      const results = await applyChanges(ns, delegations, r.session, r.changes);
      return { results, recalled: delegations.recalledOf(r.session), epoch: delegations.epoch };
    },
    GetIdentity: (_r, ctx) => identity(ctx),
    Lock: async (r) => lock(locks, r),
    PunchHole: (r) => {
      const ino = inoArg(r.ino);
      return aboutIno(r.session, ino, true, async () => {
        const { attr, freed } = await ns.punchHole(ino, Number(r.offset), Number(r.length));
        return { attr, chunksFreed: freed };
      });
    },
    AwaitRecall: async (r) => {
      if (!delegations) throw new FsError('ENOSYS', 'this master delegates no directories');
      if (r.session === '') throw new FsError('EINVAL', 'AwaitRecall needs a session');
      return { recalled: await delegations.awaitRecall(r.session, Math.min(r.waitMs, 30_000)), epoch: delegations.epoch };
    },
    UpdateOrphans: async (r) => {
      if (r.keep.length + r.release.length > 100_000) throw new FsError('EINVAL', 'too many orphans in one call');
      return { gone: await ns.updateOrphans(r.keep.map((i) => inoArg(i)), r.release.map((i) => inoArg(i))) };
    },
  };
}
