/**
 * MasterService handlers: argument checks, then one call into the namespace or the chunk manager.
 * Truncation is the one operation that needs both: the chunk holding the new end of file is cut on
 * the chunkservers first, then the namespace updates the size and drops chunks past it.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { ServiceHandlers } from '../../common/rpc/server.js';
import type { MasterMethods } from '../../common/rpc/services.js';
import type { ChunkManager } from '../chunks/chunk-manager.js';
import type { Namespace } from '../tree/namespace.js';
import { callerArg, inoArg, nameArg, optionalIno } from './request-checks.js';

const SET_ATTR_SIZE = 8;

export function masterServiceHandlers(
  ns: Namespace,
  chunks: ChunkManager,
  totals: () => { capacity: number; free: number },
  /** Largest file kept inline (`--inline-max`); 0: none. */
  inlineMax = 0,
): ServiceHandlers<typeof MasterMethods> {
  return {
    Lookup: async (r) => ({ attr: await ns.lookup(inoArg(r.parent, 'parent'), nameArg(r.name)) }),
    GetAttr: async (r) => (r.withData ? ns.getattrWithData(inoArg(r.ino)) : { attr: await ns.getattr(inoArg(r.ino)) }),
    SetAttr: async (r) => {
      const ino = inoArg(r.ino);
      if (r.fields & SET_ATTR_SIZE) {
        if (!Number.isSafeInteger(r.size) || r.size < 0) throw new FsError('EINVAL', `invalid size ${r.size}`);
        return { attr: await chunks.truncate(ino, r.size, () => ns.setattr(ino, r, callerArg(r.caller))) };
      }
      return { attr: await ns.setattr(ino, r, callerArg(r.caller)) };
    },
    // Namespace mutations answer with their response's fields, the parents' attributes included.
    Mknod: async (r) => ns.mknod(inoArg(r.parent, 'parent'), nameArg(r.name), r.type, r.mode, r.rdev, callerArg(r.caller), r.exclusive),
    Mkdir: async (r) => ns.mkdir(inoArg(r.parent, 'parent'), nameArg(r.name), r.mode, callerArg(r.caller)),
    Unlink: async (r) => ns.unlink(inoArg(r.parent, 'parent'), nameArg(r.name), callerArg(r.caller), optionalIno(r.keepIno)),
    Rmdir: async (r) => ns.rmdir(inoArg(r.parent, 'parent'), nameArg(r.name), callerArg(r.caller)),
    Rename: async (r) => ns.rename(inoArg(r.parent, 'parent'), nameArg(r.name), inoArg(r.newParent, 'new_parent'), nameArg(r.newName, 'new_name'), r.noReplace, callerArg(r.caller), optionalIno(r.keepIno)),
    Link: async (r) => ns.link(inoArg(r.ino), inoArg(r.newParent, 'new_parent'), nameArg(r.newName, 'new_name'), callerArg(r.caller)),
    Symlink: async (r) => ns.symlink(inoArg(r.parent, 'parent'), nameArg(r.name), nameArg(r.target, 'target'), callerArg(r.caller)),
    Readlink: async (r) => ({ target: await ns.readlink(inoArg(r.ino)) }),
    Readdir: async (r) => ns.readdir(inoArg(r.ino), r.after, r.limit, r.withAttrs),
    Statfs: async () => {
      const counts = await ns.statfsCounts();
      const t = totals();
      return { totalBytes: t.capacity, freeBytes: t.free, files: counts.files + counts.directories, chunkSize: 64 * 1024 * 1024, inlineMax };
    },
    GetXattr: async (r) => ({ value: await ns.getxattr(inoArg(r.ino), nameArg(r.name)) }),
    SetXattr: async (r) => {
      await ns.setxattr(inoArg(r.ino), nameArg(r.name), Buffer.from(r.value), r.flags, callerArg(r.caller));
      return {};
    },
    ListXattr: async (r) => ({ names: await ns.listxattr(inoArg(r.ino)) }),
    RemoveXattr: async (r) => {
      await ns.removexattr(inoArg(r.ino), nameArg(r.name), callerArg(r.caller));
      return {};
    },
    LocateChunks: async (r) => chunks.locate(inoArg(r.ino), r.offset, r.length),
    AllocateChunk: (r) => chunks.allocate(inoArg(r.ino), r.index, r.failedVersion),
    CommitWrite: async (r) => ({ attr: await chunks.commitWrite(inoArg(r.ino), r.end, r.mtime as fst.ITimespec | null, r.sync) }),
    SyncMetadata: async () => {
      await ns.syncMetadata();
      return {};
    },
    WriteInline: async (r) => {
      const data = Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength);
      const expectCtime = r.expectCtime ? { sec: Number(r.expectCtime.sec), nsec: r.expectCtime.nsec ?? 0 } : undefined;
      return { attr: await ns.writeInline({ ino: inoArg(r.ino), data, expectCtime, maxBytes: inlineMax }, r.sync) };
    },
    UpdateOrphans: async (r) => {
      if (r.keep.length + r.release.length > 100_000) throw new FsError('EINVAL', 'too many orphans in one call');
      return { gone: await ns.updateOrphans(r.keep.map((i) => inoArg(i)), r.release.map((i) => inoArg(i))) };
    },
  };
}
