/**
 * An in-memory MasterService + AdminService for client tests, following the semantics the real
 * master promises (see the client brief): AllocateChunk creates a chunk or moves it to a new
 * version on its replicas, CommitWrite grows the size, SetAttr SET_ATTR_SIZE cuts chunks (new
 * version), LocateChunks reports the chunks present. No permissions, no persistence.
 */
import type { Server } from '@grpc/grpc-js';
import { FsError } from '../../src/common/errors/errno.js';
import { addService, bindRpcServer, createRpcServer } from '../../src/common/rpc/server.js';
import { AdminMethods, MasterMethods } from '../../src/common/rpc/services.js';
import { CHUNK_SIZE, ROOT_INO } from '../../src/common/ids.js';
import { silentLogger } from '../../src/common/log/logger.js';
import { fst } from '../../src/proto-gen/fst.js';
import type { FakeChunkserver } from './fake-chunkserver.js';
import { wireNumber as n64 } from '../../src/client/types.js';

interface Chunk { chunkId: number; version: number; servers: FakeChunkserver[] }
interface Inode {
  attr: fst.IAttr & { ino: number; type: fst.FileType; size: number; nlink: number };
  children?: Map<string, number>;
  target?: string;
  xattrs: Map<string, Buffer>;
  chunks: Map<number, Chunk>;
}

const now = (): fst.ITimespec => ({ sec: Math.floor(Date.now() / 1000), nsec: (Date.now() % 1000) * 1e6 });
const T = fst.FileType;

export class FakeMaster {
  readonly inodes = new Map<number, Inode>();
  address = '';
  allocateCalls = 0;
  commitCalls = 0;
  private nextIno = ROOT_INO + 1;
  private nextChunk = 1;
  private server: Server | undefined;

  constructor(private readonly servers: FakeChunkserver[], private readonly replication = 2, private readonly chunkSize = CHUNK_SIZE) {
    this.inodes.set(ROOT_INO, this.newInode(ROOT_INO, T.DIRECTORY, 0o755));
  }

  private newInode(ino: number, type: fst.FileType, mode: number): Inode {
    const t = now();
    const node: Inode = {
      attr: { ino, type, mode, uid: 0, gid: 0, nlink: type === T.DIRECTORY ? 2 : 1, size: 0, atime: t, mtime: t, ctime: t, replication: this.replication },
      xattrs: new Map(),
      chunks: new Map(),
    };
    if (type === T.DIRECTORY) node.children = new Map();
    return node;
  }

  node(ino: number): Inode {
    const n = this.inodes.get(ino);
    if (!n) throw new FsError('ENOENT', `no inode ${ino}`);
    return n;
  }

  private dir(ino: number): Map<string, number> {
    const n = this.node(ino);
    if (!n.children) throw new FsError('ENOTDIR', `inode ${ino} is not a directory`);
    return n.children;
  }

  private child(parent: number, name: string): Inode {
    const ino = this.dir(parent).get(name);
    if (ino === undefined) throw new FsError('ENOENT', `no '${name}' in ${parent}`);
    return this.node(ino);
  }

  private create(parent: number, name: string, type: fst.FileType, mode: number): Inode {
    const d = this.dir(parent);
    if (d.has(name)) throw new FsError('EEXIST', `'${name}' exists`);
    if (Buffer.byteLength(name) > 255) throw new FsError('ENAMETOOLONG', 'name too long');
    const n = this.newInode(this.nextIno++, type, mode);
    this.inodes.set(n.attr.ino, n);
    d.set(name, n.attr.ino);
    if (type === T.DIRECTORY) this.node(parent).attr.nlink++;
    return n;
  }

  private drop(n: Inode): void {
    if (--n.attr.nlink > 0) return;
    for (const c of n.chunks.values()) for (const s of c.servers) s.chunks.delete(c.chunkId);
    this.inodes.delete(n.attr.ino);
  }

  private truncate(n: Inode, size: number): void {
    for (const [index, c] of n.chunks) {
      const start = index * this.chunkSize;
      if (start >= size) {
        for (const s of c.servers) s.chunks.delete(c.chunkId);
        n.chunks.delete(index);
      } else if (start + this.chunkSize > size) {
        c.version++;
        for (const s of c.servers) s.setVersion(c.chunkId, c.version, size - start);
      }
    }
    n.attr.size = size;
  }

  async start(): Promise<this> {
    const server = createRpcServer();
    const attr = (n: Inode): { attr: fst.IAttr } => ({ attr: n.attr });
    addService(server, MasterMethods, {
      Lookup: async (r) => attr(this.child(n64(r.parent), r.name)),
      GetAttr: async (r) => attr(this.node(n64(r.ino))),
      SetAttr: async (r) => {
        const n = this.node(n64(r.ino));
        const F = fst.SetAttrField;
        if (r.fields & F.SET_ATTR_MODE) n.attr.mode = r.mode;
        if (r.fields & F.SET_ATTR_UID) n.attr.uid = r.uid;
        if (r.fields & F.SET_ATTR_GID) n.attr.gid = r.gid;
        if (r.fields & F.SET_ATTR_SIZE) {
          if (n.attr.type !== T.REGULAR) throw new FsError('EISDIR', 'not a file');
          this.truncate(n, n64(r.size));
        }
        if (r.fields & F.SET_ATTR_ATIME) n.attr.atime = r.atime;
        if (r.fields & F.SET_ATTR_MTIME) n.attr.mtime = r.mtime;
        if (r.fields & F.SET_ATTR_MTIME_NOW) n.attr.mtime = now();
        n.attr.ctime = now();
        return attr(n);
      },
      Mknod: async (r) => {
        const existing = this.dir(n64(r.parent)).get(r.name);
        if (existing !== undefined) {
          const n = this.node(existing);
          if (r.exclusive || n.attr.type !== T.REGULAR) throw new FsError('EEXIST', `'${r.name}' exists`);
          return { attr: n.attr, created: false };
        }
        return { attr: this.create(n64(r.parent), r.name, r.type, r.mode).attr, created: true };
      },
      Mkdir: async (r) => attr(this.create(n64(r.parent), r.name, T.DIRECTORY, r.mode)),
      Unlink: async (r) => {
        const n = this.child(n64(r.parent), r.name);
        if (n.children) throw new FsError('EISDIR', 'is a directory');
        this.dir(n64(r.parent)).delete(r.name);
        this.drop(n);
        return { nlink: n.attr.nlink };
      },
      Rmdir: async (r) => {
        const n = this.child(n64(r.parent), r.name);
        if (!n.children) throw new FsError('ENOTDIR', 'not a directory');
        if (n.children.size > 0) throw new FsError('ENOTEMPTY', 'not empty');
        this.dir(n64(r.parent)).delete(r.name);
        this.node(n64(r.parent)).attr.nlink--;
        this.inodes.delete(n.attr.ino);
        return {};
      },
      Rename: async (r) => {
        const n = this.child(n64(r.parent), r.name);
        const target = this.dir(n64(r.newParent)).get(r.newName);
        if (target !== undefined) {
          if (r.noReplace) throw new FsError('EEXIST', 'target exists');
          this.drop(this.node(target));
        }
        this.dir(n64(r.parent)).delete(r.name);
        this.dir(n64(r.newParent)).set(r.newName, n.attr.ino);
        return {};
      },
      Link: async (r) => {
        const n = this.node(n64(r.ino));
        const d = this.dir(n64(r.newParent));
        if (d.has(r.newName)) throw new FsError('EEXIST', 'exists');
        d.set(r.newName, n64(r.ino));
        n.attr.nlink++;
        return attr(n);
      },
      Symlink: async (r) => {
        const n = this.create(n64(r.parent), r.name, T.SYMLINK, 0o777);
        n.target = r.target;
        n.attr.size = Buffer.byteLength(r.target);
        return attr(n);
      },
      Readlink: async (r) => ({ target: this.node(n64(r.ino)).target ?? '' }),
      Readdir: async (r) => {
        const names = [...this.dir(n64(r.ino)).keys()].sort().filter((n) => n > r.after);
        const limit = r.limit || 3; // tiny pages, so that the client's paging is exercised
        const page = names.slice(0, limit);
        return {
          entries: page.map((name) => {
            const n = this.node(this.dir(n64(r.ino)).get(name)!);
            return { name, ino: n.attr.ino, type: n.attr.type, ...(r.withAttrs ? { attr: n.attr } : {}) };
          }),
          more: names.length > limit,
        };
      },
      Statfs: async () => ({ totalBytes: 2 ** 30, freeBytes: 2 ** 29, files: this.inodes.size, chunkSize: this.chunkSize }),
      GetXattr: async (r) => {
        const v = this.node(n64(r.ino)).xattrs.get(r.name);
        if (!v) throw new FsError('ENODATA', 'no such attribute');
        return { value: v };
      },
      SetXattr: async (r) => { this.node(n64(r.ino)).xattrs.set(r.name, Buffer.from(r.value)); return {}; },
      ListXattr: async (r) => ({ names: [...this.node(n64(r.ino)).xattrs.keys()] }),
      RemoveXattr: async (r) => {
        if (!this.node(n64(r.ino)).xattrs.delete(r.name)) throw new FsError('ENODATA', 'no such attribute');
        return {};
      },
      LocateChunks: async (r) => {
        const n = this.node(n64(r.ino));
        const end = Math.min(n64(r.offset) + n64(r.length), n.attr.size);
        const chunks = [...n.chunks.entries()]
          .filter(([i]) => i * this.chunkSize < end && (i + 1) * this.chunkSize > n64(r.offset))
          .sort(([a], [b]) => a - b)
          .map(([index, c]) => ({ index, chunkId: c.chunkId, version: c.version, replicas: c.servers.map((s, k) => ({ serverId: k + 1, address: s.address })) }));
        return { size: n.attr.size, chunks };
      },
      AllocateChunk: async (r) => {
        this.allocateCalls++;
        const n = this.node(n64(r.ino));
        let c = n.chunks.get(n64(r.index));
        if (!c) {
          const first = (this.nextChunk - 1) % this.servers.length;
          const servers = Array.from({ length: Math.min(this.replication, this.servers.length) }, (_, k) => this.servers[(first + k) % this.servers.length]!);
          c = { chunkId: this.nextChunk++, version: 0, servers };
          n.chunks.set(n64(r.index), c);
        }
        c.version++;
        // Awaited so that a stand-in for a real chunkserver may do it over RPC.
        await Promise.all(c.servers.map((s) => s.setVersion(c.chunkId, c.version)));
        return { chunk: { index: n64(r.index), chunkId: c.chunkId, version: c.version, replicas: c.servers.map((s, k) => ({ serverId: k + 1, address: s.address })) } };
      },
      CommitWrite: async (r) => {
        this.commitCalls++;
        const n = this.node(n64(r.ino));
        n.attr.size = Math.max(n.attr.size, n64(r.end));
        n.attr.mtime = r.mtime ?? now();
        return attr(n);
      },
    }, silentLogger);
    addService(server, AdminMethods, {
      GetClusterStatus: async () => ({
        servers: this.servers.map((s, k) => ({
          serverId: k + 1, address: s.address, state: 'alive', capacityBytes: 10 * 2 ** 30, usedBytes: 2 ** 20,
          freeBytes: (10 * 2 ** 30) - (2 ** 20), chunks: s.chunks.size, lastHeartbeatMs: Date.now() - 1500, load: 0,
        })),
        capacityBytes: this.servers.length * (10 * 2 ** 30),
        files: [...this.inodes.values()].filter((n) => n.attr.type === T.REGULAR).length,
        directories: [...this.inodes.values()].filter((n) => n.attr.type === T.DIRECTORY).length,
        chunks: this.nextChunk - 1,
        health: { healthy: this.nextChunk - 1 },
        defaultReplication: this.replication,
      }),
    }, silentLogger);
    const port = await bindRpcServer(server, '127.0.0.1:0');
    this.server = server;
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  /** The chunk at `index` of `ino` (for tests that play another writer). */
  chunkOf(ino: number, index: number): Chunk | undefined {
    return this.node(ino).chunks.get(index);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.tryShutdown(() => resolve()) : resolve()));
  }
}
