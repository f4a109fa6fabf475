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
    const fhs = await Promise.all(files.map(async (f) => (await v.create(f, 0o644, constants.O_RDWR, ctx)).fh));
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
    const fh = (await v.create('/idle', 0o644, constants.O_RDWR, ctx)).fh;
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
    const a = (await v.open('/cached', constants.O_RDONLY)).fh;
    const b = (await v.open('/cached', constants.O_RDONLY)).fh;
    const [x, y] = await Promise.all([v.read(a, 0, MiB), v.read(b, 0, MiB)]);
    expect(x.equals(y)).toBe(true);
    // A third descriptor finds the blocks the first two fetched (they shared one fetch each).
    const c = (await v.open('/cached', constants.O_RDONLY)).fh;
    const before = v.cacheStats();
    const z = await v.read(c, 4096, 4096);
    expect(z.equals(x.subarray(4096, 8192))).toBe(true);
    expect(v.cacheStats().hits).toBeGreaterThan(before.hits);
    for (const fh of [a, b, c]) await v.release(fh);
  });

  it("shows a hard link's nlink through the other name at once", async () => {
    const v = vfs();
    const fh = (await v.create('/l1', 0o644, constants.O_RDWR, ctx)).fh;
    await v.release(fh);
    expect((await v.getattr('/l1')).nlink).toBe(1);
    expect((await v.open('/l1', constants.O_RDONLY)).directIo).toBe(false);
    await v.link('/l1', '/l2', ctx);
    expect((await v.getattr('/l1')).nlink).toBe(2);
    // Hard-linked files bypass the kernel's per-name page caches.
    expect((await v.open('/l2', constants.O_RDONLY)).directIo).toBe(true);
    await v.unlink('/l2', ctx);
    expect((await v.getattr('/l1')).nlink).toBe(1);
  });

  /** A Vfs on its own MetaClient, recording the name of every master RPC it makes. */
  function countedVfs(): { v: Vfs; calls: string[]; close: () => void } {
    const meta = new MetaClient(cluster.address);
    const calls: string[] = [];
    const unary = meta.rpc.unary.bind(meta.rpc);
    vi.spyOn(meta.rpc, 'unary').mockImplementation((m, req, opts) => {
      calls.push(m.path.slice(m.path.lastIndexOf('/') + 1));
      return unary(m, req, opts);
    });
    // A long TTL: no entry may expire by itself during the test.
    const v = new Vfs({ meta, chunks: client.chunks, log: silentLogger, entryTtlMs: 60_000 });
    return { v, calls, close: () => meta.close() };
  }

  const after = (a: Attr, b: Attr): boolean => a.ctime.sec > b.ctime.sec || (a.ctime.sec === b.ctime.sec && a.ctime.nsec > b.ctime.nsec);

  it("answers a directory's stat after a create from the cache, with the master's new attributes", async () => {
    const { v, calls, close } = countedVfs();
    try {
      await v.mkdir('/wcc-create', 0o755, ctx);
      const before = await v.getattr('/wcc-create');
      calls.length = 0;
      const { fh } = await v.create('/wcc-create/f', 0o644, constants.O_RDWR | constants.O_CREAT, ctx);
      const dir = await v.getattr('/wcc-create');
      expect(calls).toEqual(['Mknod']);
      expect(dir).toEqual(await client.meta.getAttr(dir.ino));
      expect(after(dir, before)).toBe(true);
      expect(dir.mtime).toEqual((await v.getattr('/wcc-create/f')).mtime);
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
      await v.getattr('/scan');
      calls.length = 0;
      // Names that do not exist never start a listing (creating files looks them up first).
      for (let i = 0; i < 10; i++) await expect(v.getattr(`/scan/missing${i}`)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(calls.filter((c) => c !== 'Lookup')).toEqual([]);
      calls.length = 0;
      for (let i = 0; i < 30; i++) expect((await v.getattr(`/scan/f${i}`)).size).toBe(`file ${i}`.length);
      // A few lookups, one listing, then nothing: the other names came with the listing.
      expect(calls.filter((c) => c === 'Readdir')).toHaveLength(1);
      expect(calls.filter((c) => c === 'Lookup').length).toBeLessThanOrEqual(5);
    } finally {
      close();
    }
  });

  it('answers getxattr and listxattr of an inode without xattrs from its attributes', async () => {
    const { v, calls, close } = countedVfs();
    try {
      const { fh } = await v.create('/hx', 0o644, constants.O_RDWR | constants.O_CREAT, ctx);
      await v.release(fh);
      await v.getattr('/hx');
      calls.length = 0;
      await expect(v.getxattr('/hx', 'security.selinux')).rejects.toMatchObject({ code: 'ENODATA' });
      expect(await v.listxattr('/hx')).toEqual([]);
      expect(calls).toEqual([]);
      // Once it has one, the master is asked (and other names are still answered ENODATA by it).
      await v.setxattr('/hx', 'user.k', Buffer.from('v'), 0, ctx);
      expect((await v.getxattr('/hx', 'user.k')).toString()).toBe('v');
      expect(await v.listxattr('/hx')).toEqual(['user.k']);
      await expect(v.getxattr('/hx', 'user.other')).rejects.toMatchObject({ code: 'ENODATA' });
      expect(calls).toContain('GetXattr');
    } finally {
      close();
    }
  });

  it('keeps every changed directory cached as the master committed it, and forgets it after a failure', async () => {
    const { v, calls, close } = countedVfs();
    try {
      for (const d of ['/wcc', '/wcc/a', '/wcc/b']) await v.mkdir(d, 0o755, ctx);
      /** Runs `op` (one RPC, `rpc`), then stats `dirs`: no more RPCs, and the master's attributes. */
      const check = async (rpc: string, dirs: string[], op: () => Promise<unknown>): Promise<Attr[]> => {
        const before = await Promise.all(dirs.map((d) => v.getattr(d)));
        calls.length = 0;
        await op();
        const got = await Promise.all(dirs.map((d) => v.getattr(d)));
        expect(calls, rpc).toEqual([rpc]);
        for (const [i, a] of got.entries()) {
          expect(a, `${rpc}: ${dirs[i]}`).toEqual(await client.meta.getAttr(a.ino));
          expect(after(a, before[i]!), `${rpc}: ${dirs[i]} ctime`).toBe(true);
        }
        return got;
      };
      await check('Mknod', ['/wcc/a'], () => v.mknod('/wcc/a/f', constants.S_IFREG | 0o644, 0, ctx));
      await check('Mknod', ['/wcc/a'], () => v.mknod('/wcc/a/p', constants.S_IFIFO | 0o644, 0, ctx));
      const [a] = await check('Mkdir', ['/wcc/a'], () => v.mkdir('/wcc/a/sub', 0o755, ctx));
      expect(a?.nlink).toBe(3);
      await check('Symlink', ['/wcc/a'], () => v.symlink('f', '/wcc/a/s', ctx));
      await check('Link', ['/wcc/b'], () => v.link('/wcc/a/f', '/wcc/b/f2', ctx));
      const [a2, b2] = await check('Rename', ['/wcc/a', '/wcc/b'], () => v.rename('/wcc/a/sub', '/wcc/b/sub', ctx));
      expect([a2?.nlink, b2?.nlink]).toEqual([2, 3]);
      await check('Rename', ['/wcc/b'], () => v.rename('/wcc/b/f2', '/wcc/b/f3', ctx));
      await check('Unlink', ['/wcc/b'], () => v.unlink('/wcc/b/f3', ctx));
      const [b3] = await check('Rmdir', ['/wcc/b'], () => v.rmdir('/wcc/b/sub', ctx));
      expect(b3?.nlink).toBe(2);
      // The names themselves stay right.
      expect((await v.readdir('/wcc/a')).names.sort()).toEqual(['.', '..', 'f', 'p', 's']);
      expect((await v.readdir('/wcc/b')).names.sort()).toEqual(['.', '..']);
      expect((await v.getattr('/wcc/a/f')).nlink).toBe(1);

      // A failed change says nothing about the directory: the next stat asks the master again.
      await v.getattr('/wcc/a');
      calls.length = 0;
      await expect(v.unlink('/wcc/a/missing', ctx)).rejects.toMatchObject({ code: 'ENOENT' });
      await v.getattr('/wcc/a');
      expect(calls).toEqual(['Unlink', 'Lookup']);
    } finally {
      close();
    }
  });

  it('drops a directory whose answer is older than what it caches, and forgets one answered without attributes', async () => {
    const cache = new EntryCache(client.meta, 60_000);
    await client.mkdir('/wcc-order');
    const dir = await cache.resolve('/wcc-order');
    const newer = { ...dir, nlink: dir.nlink + 1, ctime: { sec: dir.ctime.sec + 10, nsec: 0 } };
    cache.dirChanged('/wcc-order', newer);
    expect(cache.peek('/wcc-order')).toEqual(newer);
    // An older answer arriving late: which is newer is unknown, so neither is kept.
    cache.dirChanged('/wcc-order', dir);
    expect(cache.peek('/wcc-order')).toBeUndefined();
    expect(await cache.resolve('/wcc-order')).toEqual(dir);
    // No attributes (a failed call, or a master from before them): the path is forgotten.
    cache.dirChanged('/wcc-order', undefined);
    expect(cache.peek('/wcc-order')).toBeUndefined();
  });
});
