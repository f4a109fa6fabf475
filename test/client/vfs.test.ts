/**
 * The Vfs without a mount (as JuiceFS tests pkg/vfs): real master and chunkservers in-process, the
 * FUSE-shaped operations called directly. Covers what is awkward to see through the kernel: the
 * mount-wide write-back memory limit, the idle flush, the shared read cache, the per-inode
 * attribute cache and the directories kept cached across changes made through the mount.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { EntryCache } from '../../src/client/vfs/entry-cache.js';
import { Vfs } from '../../src/client/vfs/vfs.js';
import type { FstClient } from '../../src/client/fst-client.js';
import { MetaClient } from '../../src/client/meta-client.js';
import type { Attr } from '../../src/client/types.js';
import { waitFor } from '../helpers/probes.js';
import { startRealCluster, type RealCluster } from './real-cluster.js';

const ctx = { uid: 0, gid: 0, pid: 1 };
const MiB = 1024 * 1024;
const ROOT = 1;

/**
 * The inode of an absolute path, looked up name by name as the kernel does (and, as the kernel,
 * asking for attributes a lookup says not to trust).
 */
async function resolve(v: Vfs, path: string): Promise<Attr> {
  let attr = (await v.getattr(ROOT)).value;
  for (const name of path.split('/').filter(Boolean)) {
    const found = await v.lookup(attr.ino, name);
    attr = found.attrTtlSec === 0 ? (await v.getattr(found.value.ino)).value : found.value;
  }
  return attr;
}

/** The directory inode and last name of an absolute path. */
async function parentOf(v: Vfs, path: string): Promise<{ parent: number; name: string }> {
  const i = path.lastIndexOf('/');
  return { parent: (await resolve(v, path.slice(0, i) || '/')).ino, name: path.slice(i + 1) };
}

/** What the kernel would do for open(path, O_CREAT|flags): create in the parent. */
async function create(v: Vfs, path: string, flags = constants.O_RDWR | constants.O_CREAT): Promise<number> {
  const { parent, name } = await parentOf(v, path);
  return (await v.create(parent, name, 0o644, flags, ctx)).fh;
}

async function openPath(v: Vfs, path: string, flags: number): Promise<number> {
  return (await v.open((await resolve(v, path)).ino, flags)).fh;
}

describe('Vfs', () => {
  let cluster: RealCluster;
  let client: FstClient;
  beforeAll(async () => {
    cluster = await startRealCluster({ chunkservers: 2, replication: 2 });
    client = await cluster.client();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  function vfs(extra: Partial<ConstructorParameters<typeof Vfs>[0]> = {}): Vfs {
    return new Vfs({ meta: client.meta, chunks: client.chunks, log: silentLogger, ...extra });
  }

  it('keeps all files together under the mount-wide write-back limit', async () => {
    const v = vfs({ writebackMemoryBytes: 3 * MiB, writeback: { flushThresholdBytes: 8 * MiB } });
    const files = ['/m1', '/m2', '/m3', '/m4'];
    const fhs = await Promise.all(files.map((f) => create(v, f, constants.O_RDWR)));
    const data = files.map(() => randomBytes(6 * MiB));
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, v.writebackMemory())), 2);
    await Promise.all(fhs.map(async (fh, i) => {
      for (let off = 0; off < 6 * MiB; off += 256 * 1024) await v.write(fh, data[i]!.subarray(off, off + 256 * 1024), off);
    }));
    clearInterval(sample);
    await Promise.all(fhs.map((fh) => v.flush(fh)));
    await Promise.all(fhs.map((fh) => v.release(fh)));
    // One write may go over by its own size while others drain; never by a file's worth.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3 * MiB + 4 * 256 * 1024);
    for (let i = 0; i < files.length; i++) expect((await client.readFile(files[i]!)).equals(data[i]!)).toBe(true);
  });

  it('sends buffered data after the idle delay without a close', async () => {
    const idleFlushMs = 1_000;
    const v = vfs({ writeback: { idleFlushMs } });
    const fh = await create(v, '/idle', constants.O_RDWR);
    const ino = (await client.stat('/idle')).ino;
    const t0 = performance.now();
    await v.write(fh, Buffer.from('written, never closed'), 0);
    const soon = (await client.meta.getAttr(ino)).size;
    // Nothing is sent before the idle delay: a size read back before it ran out is still 0 (on a
    // machine too busy to read it back that soon, only the end result is checked).
    if (performance.now() - t0 < idleFlushMs) expect(soon).toBe(0);
    const size = await waitFor('the buffered bytes sent', async () => (await client.meta.getAttr(ino)).size || undefined, undefined, 50);
    expect(size).toBe(21);
    await v.release(fh);
  });

  it('serves repeated reads of one file from the shared cache, across descriptors', async () => {
    await client.writeFile('/cached', randomBytes(3 * MiB));
    const v = vfs();
    const a = await openPath(v, '/cached', constants.O_RDONLY);
    const b = await openPath(v, '/cached', constants.O_RDONLY);
    const [x, y] = await Promise.all([v.read(a, 0, MiB), v.read(b, 0, MiB)]);
    expect(x.equals(y)).toBe(true);
    // A third descriptor finds the blocks the first two fetched (they shared one fetch each).
    const c = await openPath(v, '/cached', constants.O_RDONLY);
    const before = v.cacheStats();
    const z = await v.read(c, 4096, 4096);
    expect(z.equals(x.subarray(4096, 8192))).toBe(true);
    expect(v.cacheStats().hits).toBeGreaterThan(before.hits);
    for (const fh of [a, b, c]) await v.release(fh);
  });

  it("shows a hard link's nlink through the other name at once", async () => {
    const v = vfs();
    await v.release(await create(v, '/l1', constants.O_RDWR));
    const ino = (await resolve(v, '/l1')).ino;
    expect((await v.getattr(ino)).value.nlink).toBe(1);
    await v.link(ino, ROOT, 'l2', ctx);
    expect((await resolve(v, '/l1')).nlink).toBe(2);
    expect((await resolve(v, '/l2')).ino).toBe(ino);
    await v.unlink(ROOT, 'l2', ctx);
    expect((await resolve(v, '/l1')).nlink).toBe(1);
  });

  it('keeps a file removed while open readable until its last release, then the master frees it', async () => {
    const v = vfs();
    const fh = await create(v, '/orphan', constants.O_RDWR);
    await v.write(fh, Buffer.from('still here'), 0);
    await v.flush(fh);
    const ino = (await resolve(v, '/orphan')).ino;
    await v.unlink(ROOT, 'orphan', ctx);
    await expect(v.lookup(ROOT, 'orphan')).rejects.toMatchObject({ code: 'ENOENT' });
    // The master keeps the inode, nameless, for this client: readable, its data intact.
    expect((await client.meta.getAttr(ino)).nlink).toBe(0);
    expect((await v.read(fh, 0, 100)).toString()).toBe('still here');
    await v.release(fh);
    await expect(client.meta.getAttr(ino)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  /** A Vfs on its own MetaClient, recording the name of every master RPC it makes. */
  function countedVfs(ttlMs = 60_000): { v: Vfs; calls: string[]; close: () => void } {
    const meta = new MetaClient(cluster.address, { tls: { credentials: cluster.credentials!, server: 'master' } });
    const calls: string[] = [];
    const unary = meta.rpc.unary.bind(meta.rpc);
    vi.spyOn(meta.rpc, 'unary').mockImplementation((m, req, opts) => {
      calls.push(m.path.slice(m.path.lastIndexOf('/') + 1));
      return unary(m, req, opts);
    });
    // A long TTL by default: no entry may expire by itself during the test.
    const v = new Vfs({ meta, chunks: client.chunks, log: silentLogger, entryTtlMs: ttlMs });
    return { v, calls, close: () => meta.close() };
  }

  const after = (a: Attr, b: Attr): boolean => a.ctime.sec > b.ctime.sec || (a.ctime.sec === b.ctime.sec && a.ctime.nsec > b.ctime.nsec);

  it("answers a directory's stat after a create from the cache, with the master's new attributes", async () => {
    const { v, calls, close } = countedVfs();
    try {
      const d = await v.mkdir(ROOT, 'wcc-create', 0o755, ctx);
      const before = (await v.getattr(d.ino)).value;
      calls.length = 0;
      const { fh, attr } = await v.create(d.ino, 'f', 0o644, constants.O_RDWR | constants.O_CREAT, ctx);
      const dir = (await v.getattr(d.ino)).value;
      expect(calls).toEqual(['Mknod']);
      expect(dir).toEqual(await client.meta.getAttr(dir.ino));
      expect(after(dir, before)).toBe(true);
      expect(dir.mtime).toEqual(attr.mtime);
      await v.release(fh);
    } finally {
      close();
    }
  });

  it('lists a directory whose names are being looked up one by one, and answers the rest from the listing', async () => {
    await client.mkdir('/scan');
    for (let i = 0; i < 30; i++) await client.writeFile(`/scan/f${i}`, `file ${i}`);
    const { v, calls, close } = countedVfs();
    try {
      const dir = (await resolve(v, '/scan')).ino;
      calls.length = 0;
      // Names that do not exist never start a listing (creating files looks them up first).
      for (let i = 0; i < 10; i++) await expect(v.lookup(dir, `missing${i}`)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(calls.filter((c) => c !== 'Lookup')).toEqual([]);
      calls.length = 0;
      for (let i = 0; i < 30; i++) expect((await v.lookup(dir, `f${i}`)).value.size).toBe(`file ${i}`.length);
      // A few lookups, one listing, then nothing: the other names came with the listing.
      expect(calls.filter((c) => c === 'Readdir')).toHaveLength(1);
      expect(calls.filter((c) => c === 'Lookup').length).toBeLessThanOrEqual(5);
    } finally {
      close();
    }
  });

  it('answers nothing from its caches with an entry TTL of 0 (FstClient): every name and attribute is asked for', async () => {
    const { v, calls, close } = countedVfs(0);
    try {
      // A directory made here is known whole (empty), with a TTL: not with none.
      const d = await v.mkdir(ROOT, 'ttl0', 0o755, ctx);
      calls.length = 0;
      await expect(v.lookup(d.ino, 'absent')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(calls).toEqual(['Lookup']);
      const made = await v.create(d.ino, 'f0', 0o644, constants.O_RDWR | constants.O_CREAT, ctx);
      await v.release(made.fh);
      for (let i = 1; i < 6; i++) await v.mkdir(d.ino, `d${i}`, 0o755, ctx);
      calls.length = 0;
      // Names found by lookups of their own (which start a listing of the directory with a TTL),
      // the attributes of a file made here, and getxattr of a file known to have no xattrs.
      for (let i = 1; i < 6; i++) await v.lookup(d.ino, `d${i}`);
      await v.getattr(made.attr.ino);
      await expect(v.getxattr(made.attr.ino, 'user.x')).rejects.toMatchObject({ code: 'ENODATA' });
      expect(calls).toEqual([...Array<string>(5).fill('Lookup'), 'GetAttr', 'GetAttr']);
      // Listings read whole, by name or through a directory handle, answer no lookup either.
      await v.readdirPage(d.ino, { withAttrs: true });
      const fh = await v.opendir(d.ino);
      expect((await v.readdir(fh, 0, 100)).end).toBe(true);
      v.releasedir(fh);
      calls.length = 0;
      await expect(v.lookup(d.ino, 'absent')).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await v.lookup(d.ino, 'f0')).value.ino).toBe(made.attr.ino);
      expect(calls).toEqual(['Lookup', 'Lookup']);
    } finally {
      close();
    }
  });

  it('answers getxattr and listxattr of an inode without xattrs from its attributes', async () => {
    const { v, calls, close } = countedVfs();
    try {
      const { fh, attr } = await v.create(ROOT, 'hx', 0o644, constants.O_RDWR | constants.O_CREAT, ctx);
      await v.release(fh);
      await v.getattr(attr.ino);
      calls.length = 0;
      await expect(v.getxattr(attr.ino, 'security.selinux')).rejects.toMatchObject({ code: 'ENODATA' });
      expect(await v.listxattr(attr.ino)).toEqual([]);
      expect(calls).toEqual([]);
      // Once it has one, the master is asked (and other names are still answered ENODATA by it).
      await v.setxattr(attr.ino, 'user.k', Buffer.from('v'), 0, ctx);
      expect((await v.getxattr(attr.ino, 'user.k')).toString()).toBe('v');
      expect(await v.listxattr(attr.ino)).toEqual(['user.k']);
      await expect(v.getxattr(attr.ino, 'user.other')).rejects.toMatchObject({ code: 'ENODATA' });
      expect(calls).toContain('GetXattr');
    } finally {
      close();
    }
  });

  it('keeps every changed directory cached as the master committed it, and forgets it after a failure', async () => {
    const { v, calls, close } = countedVfs();
    try {
      const wcc = await v.mkdir(ROOT, 'wcc', 0o755, ctx);
      const a = (await v.mkdir(wcc.ino, 'a', 0o755, ctx)).ino;
      const b = (await v.mkdir(wcc.ino, 'b', 0o755, ctx)).ino;
      const stat = async (ino: number): Promise<Attr> => (await v.getattr(ino)).value;
      /** Runs `op` (one RPC, `rpc`), then stats `dirs`: no more RPCs, and the master's attributes. */
      const check = async (rpc: string, dirs: number[], op: () => Promise<unknown>): Promise<Attr[]> => {
        const before = await Promise.all(dirs.map(stat));
        calls.length = 0;
        await op();
        const got = await Promise.all(dirs.map(stat));
        expect(calls, rpc).toEqual([rpc]);
        for (const [i, attr] of got.entries()) {
          expect(attr, `${rpc}: ${dirs[i]}`).toEqual(await client.meta.getAttr(attr.ino));
          expect(after(attr, before[i]!), `${rpc}: ${dirs[i]} ctime`).toBe(true);
        }
        return got;
      };
      let f = 0;
      await check('Mknod', [a], async () => (f = (await v.mknod(a, 'f', constants.S_IFREG | 0o644, 0, ctx)).ino));
      await check('Mknod', [a], () => v.mknod(a, 'p', constants.S_IFIFO | 0o644, 0, ctx));
      const [a1] = await check('Mkdir', [a], () => v.mkdir(a, 'sub', 0o755, ctx));
      expect(a1?.nlink).toBe(3);
      await check('Symlink', [a], () => v.symlink(a, 's', 'f', ctx));
      await check('Link', [b], () => v.link(f, b, 'f2', ctx));
      const [a2, b2] = await check('Rename', [a, b], () => v.rename(a, 'sub', b, 'sub', 0, ctx));
      expect([a2?.nlink, b2?.nlink]).toEqual([2, 3]);
      await check('Rename', [b], () => v.rename(b, 'f2', b, 'f3', 0, ctx));
      await check('Unlink', [b], () => v.unlink(b, 'f3', ctx));
      const [b3] = await check('Rmdir', [b], () => v.rmdir(b, 'sub', ctx));
      expect(b3?.nlink).toBe(2);
      // The names themselves stay right.
      const names = async (dir: number): Promise<string[]> => {
        const fh = await v.opendir(dir);
        try {
          return (await v.readdir(fh, 0, 100)).names.sort();
        } finally {
          v.releasedir(fh);
        }
      };
      expect(await names(a)).toEqual(['.', '..', 'f', 'p', 's']);
      expect(await names(b)).toEqual(['.', '..']);
      expect((await v.lookup(a, 'f')).value.nlink).toBe(1);

      // A failed change says nothing about the directory: the next stat asks the master again.
      await v.getattr(a);
      calls.length = 0;
      await expect(v.unlink(a, 'missing', ctx)).rejects.toMatchObject({ code: 'ENOENT' });
      await v.getattr(a);
      expect(calls).toEqual(['Unlink', 'GetAttr']);
    } finally {
      close();
    }
  });

  it('drops a directory whose answer is older than what it caches, and forgets one answered without attributes', async () => {
    const cache = new EntryCache(client.meta, 60_000);
    await client.mkdir('/wcc-order');
    const dir = (await cache.lookup(ROOT, 'wcc-order')).value;
    const newer = { ...dir, nlink: dir.nlink + 1, ctime: { sec: dir.ctime.sec + 10, nsec: 0 } };
    cache.dirChanged(dir.ino, newer);
    expect(cache.cachedAttr(dir.ino)?.value).toEqual(newer);
    // An older answer arriving late: which is newer is unknown, so neither is kept.
    cache.dirChanged(dir.ino, dir);
    expect(cache.cachedAttr(dir.ino)).toBeUndefined();
    expect((await cache.getattr(dir.ino)).value).toEqual(dir);
    // No attributes (a failed call, or a master from before them): the inode is forgotten.
    cache.dirChanged(dir.ino, undefined);
    expect(cache.cachedAttr(dir.ino)).toBeUndefined();
  });

  it('reads a directory longer than one page in pieces, each entry once, and from the start again after a rewind', async () => {
    await client.mkdir('/big-dir');
    await Promise.all(Array.from({ length: 1500 }, (_, i) => client.writeFile(`/big-dir/e${String(i).padStart(5, '0')}`, '')));
    const v = vfs();
    const fh = await v.opendir((await resolve(v, '/big-dir')).ino);
    try {
      /** Every name, read in pieces of `max` from offset 0 as the kernel does. */
      const readAll = async (max: number): Promise<string[]> => {
        const names: string[] = [];
        for (let offset = 0; ;) {
          const piece = await v.readdir(fh, offset, max);
          if (piece.names.length === 0) return names;
          names.push(...piece.names);
          offset += piece.names.length;
        }
      };
      const seen = await readAll(97);
      expect(seen.slice(0, 2)).toEqual(['.', '..']);
      expect(seen.length).toBe(1502);
      expect(new Set(seen).size).toBe(1502);
      await client.writeFile('/big-dir/late', '');
      expect((await v.readdir(fh, 1490, 100)).names).not.toContain('late');
      // Offset 0 again (rewinddir) reads the directory afresh.
      expect(await readAll(1000)).toContain('late');
    } finally {
      v.releasedir(fh);
    }
  });

  describe('directories known whole', () => {
    it('answers lookups in a directory it made from what it knows, until someone else changes it', async () => {
      const { v, calls, close } = countedVfs();
      try {
        const d = (await v.mkdir(ROOT, 'made-here', 0o755, ctx)).ino;
        calls.length = 0;
        // Creating names in it: the kernel's lookup of each new name costs no master call.
        for (let i = 0; i < 5; i++) {
          await expect(v.lookup(d, `f${i}`)).rejects.toMatchObject({ code: 'ENOENT' });
          await v.mkdir(d, `f${i}`, 0o755, ctx);
        }
        await v.rename(d, 'f0', d, 'g0', 0, ctx);
        await v.unlink(d, 'nope', ctx).catch(() => undefined);
        expect(calls.filter((c) => c === 'Lookup')).toEqual([]);
        // A name made by another client is noticed at this mount's next change (its change number
        // skips one), and looked up from then on.
        await client.writeFile('/made-here/other', 'x');
        await v.mkdir(d, 'f9', 0o755, ctx);
        calls.length = 0;
        expect((await v.lookup(d, 'other')).value.size).toBe(1);
        expect(calls).toEqual(['Lookup']);
      } finally {
        close();
      }
    });

    it('learns a directory read to its end, and renames and removes by what it learnt', async () => {
      await client.mkdir('/read-whole');
      for (let i = 0; i < 20; i++) await client.writeFile(`/read-whole/f${i}`, `${i}`);
      const { v, calls, close } = countedVfs();
      try {
        const d = (await v.lookup(ROOT, 'read-whole')).value.ino;
        const fh = await v.opendir(d);
        expect((await v.readdir(fh, 0, 100)).names).toHaveLength(22);
        v.releasedir(fh);
        calls.length = 0;
        await expect(v.lookup(d, 'absent')).rejects.toMatchObject({ code: 'ENOENT' });
        expect((await v.lookup(d, 'f3')).value.size).toBe(1);
        await v.unlink(d, 'f3', ctx);
        await expect(v.lookup(d, 'f3')).rejects.toMatchObject({ code: 'ENOENT' });
        await v.rename(d, 'f4', d, 'moved', 0, ctx);
        expect((await v.lookup(d, 'moved')).value.size).toBe(1);
        expect(calls).toEqual(['Unlink', 'Rename']);
      } finally {
        close();
      }
    });

    it('trusts a listing no longer than the TTL without a change of its own', async () => {
      const { v, calls, close } = countedVfs(300);
      try {
        const d = (await v.mkdir(ROOT, 'short-ttl', 0o755, ctx)).ino;
        await client.writeFile('/short-ttl/late', 'x');
        // Within the TTL the directory may look as it was (like the kernel's own negative entries)...
        // ...and once it has passed, the master is asked again.
        await waitFor('the listing to expire', async () => {
          try {
            return (await v.lookup(d, 'late')).value.size === 1;
          } catch {
            return false;
          }
        }, undefined, 50);
        expect(calls).toContain('Lookup');
      } finally {
        close();
      }
    });
  });
});
