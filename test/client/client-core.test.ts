/**
 * FstClient as a path adapter over the client core (src/client/core.ts): its handles are Vfs
 * descriptors sharing one writer per inode, its paths resolve through the Vfs's entry cache with a
 * TTL of 0 (never answered from cache: another client's change shows at once, including names
 * found absent and directories listed whole), and what the HTTP gateway needs on top: pages of a
 * directory by name, streaming reads with read-ahead, streaming writes under a memory budget.
 * A real cluster in this process (real-cluster.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FstClient } from '../../src/client/fst-client.js';
import { startRealCluster, type RealCluster } from './real-cluster.js';
import { codeOf } from '../helpers/probes.js';
import { sha256 } from '../helpers/files.js';

const MiB = 1024 * 1024;

describe('FstClient over the client core', () => {
  let cluster: RealCluster;
  let a: FstClient;
  let b: FstClient;

  beforeAll(async () => {
    cluster = await startRealCluster({ chunkservers: 2, replication: 2 });
    a = await cluster.client();
    b = await cluster.client();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('gives two handles of one file one writer: each sees the other\'s writes at once', async () => {
    const w1 = await a.open('/shared', { create: true, read: true, write: true });
    const w2 = await a.open('/shared', { read: true, write: true });
    await w1.write(0, Buffer.from('hello'));
    // Not flushed: still in the one writer of the inode, which both handles use.
    expect(w2.pendingBytes).toBe(5);
    expect(w2.currentSize).toBe(5);
    expect((await w2.read(0, 100)).toString()).toBe('hello');
    expect((await b.stat('/shared')).size).toBe(0);
    const app = await a.open('/shared', { append: true });
    await app.write(0, Buffer.from(' world'));
    expect((await w1.read(0, 100)).toString()).toBe('hello world');
    await w2.write(0, Buffer.from('J'));
    expect((await w1.read(0, 100)).toString()).toBe('Jello world');
    // One close commits what every handle wrote: the file is shared, not the handle's.
    await w2.close();
    expect((await b.readFile('/shared')).toString()).toBe('Jello world');
    expect(w1.pendingBytes).toBe(0);
    await app.close();
    await w1.close();
    expect(a.vfs.openHandles).toBe(0);
  });

  it('reads back what it wrote while another client changes the file, seeing the change at its next open', async () => {
    await a.writeFile('/rw', 'first');
    const r = await a.open('/rw');
    expect((await r.read(0, 100)).toString()).toBe('first');
    await b.writeFile('/rw', 'second, longer');
    // Close-to-open: a new open (or readFile) of this client sees the other client's data at once.
    expect((await a.readFile('/rw')).toString()).toBe('second, longer');
    expect((await a.stat('/rw')).size).toBe('second, longer'.length);
    await r.close();
    const w = await a.open('/rw', { write: true, truncate: true });
    await w.write(0, Buffer.from('third'));
    expect((await b.readFile('/rw')).toString()).toBe('');
    // This client reads its own pending write; closing that reading handle commits it (one writer
    // per inode: any close of the file flushes it, as close(2) on a mount does).
    expect((await a.readFile('/rw')).toString()).toBe('third');
    expect((await b.readFile('/rw')).toString()).toBe('third');
    await b.truncate('/rw', 2);
    expect((await a.readFile('/rw')).toString()).toBe('th');
    // The writer learns of the other client's truncate when its write lands (the master refuses a
    // write over content it did not know) and lays its bytes over the file as it is now.
    await w.write(2, Buffer.from('ree'));
    await w.close();
    expect((await b.readFile('/rw')).toString()).toBe('three');
  });

  it('keeps a file unlinked while open readable through its handle, and frees it at the last close', async () => {
    await a.writeFile('/orphan', 'still here');
    const h = await a.open('/orphan', { read: true, write: true });
    const { ino } = await a.stat('/orphan');
    await a.unlink('/orphan');
    expect(await b.exists('/orphan')).toBe(false);
    expect((await h.read(0, 100)).toString()).toBe('still here');
    await h.write(0, Buffer.from('STILL'));
    await h.fsync();
    expect((await h.read(0, 100)).toString()).toBe('STILL here');
    await h.close();
    expect(await codeOf(a.meta.getAttr(ino))).toBe('ENOENT');
  });

  it('answers nothing from cache with entryTtlMs 0: names, absent names, attributes, whole listings', async () => {
    await a.mkdir('/t');
    for (const n of ['f1', 'f2', 'f3', 'f4', 'f5']) await a.writeFile(`/t/${n}`, n);
    // A listing read whole, and lookups of several names of the directory (which, with a TTL,
    // list it ahead): none of it may answer for the other client's changes.
    expect((await a.readdir('/t', { withAttrs: true })).map((e) => e.name)).toEqual(['f1', 'f2', 'f3', 'f4', 'f5']);
    for (const n of ['f1', 'f2', 'f3', 'f4', 'f5']) expect((await a.stat(`/t/${n}`)).size).toBe(2);
    expect(await a.exists('/t/new')).toBe(false);

    await b.writeFile('/t/new', 'made by b');
    expect((await a.stat('/t/new')).size).toBe(9);
    expect(await codeOf(a.open('/t/new', { create: true, exclusive: true }))).toBe('EEXIST');
    await b.unlink('/t/f1');
    expect(await a.exists('/t/f1')).toBe(false);
    await b.chmod('/t/f2', 0o600);
    expect((await a.stat('/t/f2')).mode & 0o7777).toBe(0o600);
    await b.rename('/t/f3', '/t/f3b');
    expect(await a.exists('/t/f3')).toBe(false);
    expect((await a.readFile('/t/f3b')).toString()).toBe('f3');
    await b.setxattr('/t/f4', 'user.k', 'v');
    expect((await a.getxattr('/t/f4', 'user.k')).toString()).toBe('v');
    await b.rm('/t', { recursive: true });
    expect(await a.exists('/t')).toBe(false);
    expect(await codeOf(a.writeFile('/t/f5', 'x'))).toBe('ENOENT');
    // And the other way round: a directory replaced by a file under the same name.
    await b.writeFile('/t', 'a file now');
    expect((await a.stat('/t')).kind).toBe('file');
    await b.unlink('/t');
  });

  it('lists a directory in pages by name, in byte order', async () => {
    await a.mkdir('/pages');
    const names = ['z', 'B', 'é', 'a', 'a0', 'Z9', '_'];
    for (const n of names) await a.writeFile(`/pages/${n}`, n);
    const byteOrder = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await a.readdirPage('/pages', { after, limit: 3, withAttrs: true });
      expect(page.entries.length).toBeLessThanOrEqual(3);
      for (const e of page.entries) expect(e.stat?.size).toBe(Buffer.byteLength(e.name));
      seen.push(...page.entries.map((e) => e.name));
      if (!page.more) break;
      after = page.entries[page.entries.length - 1]!.name;
    }
    expect(seen).toEqual(byteOrder);
    // A name made by another client between pages shows in the page it falls in.
    const first = await a.readdirPage('/pages', { limit: 2 });
    await b.writeFile('/pages/b', '');
    const rest = await a.readdirPage('/pages', { after: first.entries[1]!.name });
    expect([...first.entries, ...rest.entries].map((e) => e.name)).toEqual([...byteOrder, 'b'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(rest.more).toBe(false);
    expect(await codeOf(a.readdirPage('/pages/a'))).toBe('ENOTDIR');
  });

  it('streams a large file in small sequential reads with read-ahead, in blocks', async () => {
    const data = randomBytes(12 * MiB + 777);
    await a.writeFile('/stream', data);
    const c = await cluster.client();
    const calls = vi.spyOn(c.chunks, 'readRange');
    const h = await c.open('/stream', { read: true });
    const parts: Buffer[] = [];
    for (let pos = 0; ;) {
      const part = await h.read(pos, 64 * 1024);
      if (part.length === 0) break;
      parts.push(part);
      pos += part.length;
    }
    await h.close();
    expect(sha256(Buffer.concat(parts))).toBe(sha256(data));
    // 1 MiB blocks fetched ahead, not one chunkserver call per 64 KiB read.
    expect(calls.mock.calls.length).toBeLessThanOrEqual(14);
    await c.close();
  });

  it('streams 1 MiB writes at full speed under the client-wide write-back budget', async () => {
    const c = await cluster.client({ writebackMemoryBytes: 4 * MiB, writeback: { flushThresholdBytes: MiB } });
    const data = randomBytes(32 * MiB);
    const h = await c.open('/wstream', { create: true, write: true, truncate: true, exclusive: true });
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, c.vfs.writebackMemory())), 1);
    try {
      for (let pos = 0; pos < data.length; pos += MiB) {
        await h.write(pos, data.subarray(pos, pos + MiB));
        peak = Math.max(peak, c.vfs.writebackMemory());
      }
    } finally {
      clearInterval(sample);
    }
    await h.close();
    expect(peak).toBeGreaterThan(0);
    // One write may go over by its own size while the others drain.
    expect(peak).toBeLessThanOrEqual(5 * MiB);
    expect(c.vfs.writebackMemory()).toBe(0);
    expect(sha256(await b.readFile('/wstream'))).toBe(sha256(data));
    await c.close();
  });
});
