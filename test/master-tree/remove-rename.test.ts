/** unlink, rmdir, rename, link: nlink and time rules, freeing inodes and chunks, errnos. */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { ENGINES, ROOT, addChunks, chunkIdxs, deletedChunks, expectErrno, ns, sleep, useNamespace } from './helpers.js';
import { REPLACED_GRACE_MS } from '../../src/master/tree/orphans.js';

const { REGULAR, DIRECTORY } = fst.FileType;

describe.each(ENGINES)('Namespace: remove, rename, link (%s)', (engine) => {
  const fx = useNamespace(engine);
  const file = async (parent: number, name: string) => (await fx.ns.mknod(parent, name, REGULAR, 0o644, 0)).attr.ino ?? 0;
  const dir = async (parent: number, name: string) => (await fx.ns.mkdir(parent, name, 0o755)).attr.ino ?? 0;

  it('unlink frees the inode, its chunks and xattrs at nlink 0 and bumps the parent', async () => {
    const f = await file(ROOT, 'f');
    const ids = await addChunks(fx.db, f, [0, 1, 2]);
    await fx.ns.setxattr(f, 'user.a', Buffer.from('1'));
    expect(await fx.ns.statfsCounts()).toEqual({ files: 1, directories: 1, chunks: 3 });
    const before = await fx.ns.getattr(ROOT);
    await sleep(1);
    expect((await fx.ns.unlink(ROOT, 'f')).nlink).toBe(0);
    await expectErrno(fx.ns.getattr(f), 'ENOENT');
    await expectErrno(fx.ns.lookup(ROOT, 'f'), 'ENOENT');
    expect(await chunkIdxs(fx.db, f)).toEqual([]);
    expect(await deletedChunks(fx.db)).toEqual(ids);
    expect(await fx.db.reader.all('SELECT * FROM xattrs WHERE ino = ?', [f])).toEqual([]);
    expect(await fx.ns.statfsCounts()).toEqual({ files: 0, directories: 1, chunks: 0 });
    const after = await fx.ns.getattr(ROOT);
    expect(ns(after.mtime)).toBeGreaterThan(ns(before.mtime));
    expect(ns(after.ctime)).toBeGreaterThan(ns(before.ctime));
  });

  it('unlink errnos: missing name, directory, dots, not-a-directory parent', async () => {
    const f = await file(ROOT, 'f');
    await dir(ROOT, 'd');
    await expectErrno(fx.ns.unlink(ROOT, 'nope'), 'ENOENT');
    await expectErrno(fx.ns.unlink(ROOT, 'd'), 'EISDIR');
    await expectErrno(fx.ns.unlink(ROOT, '.'), 'EISDIR');
    await expectErrno(fx.ns.unlink(f, 'x'), 'ENOTDIR');
    await expectErrno(fx.ns.unlink(4242, 'x'), 'ENOENT');
  });

  it('link: nlink + 1 and ctime bump visible through every name; unlink of one name keeps the inode', async () => {
    const d = await dir(ROOT, 'd');
    const f = await file(ROOT, 'f');
    const orig = await fx.ns.getattr(f);
    await sleep(1);
    const linked = (await fx.ns.link(f, d, 'g')).attr;
    expect(linked.nlink).toBe(2);
    expect(ns(linked.ctime)).toBeGreaterThan(ns(orig.ctime));
    expect(linked.mtime).toEqual(orig.mtime);
    expect(await fx.ns.lookup(ROOT, 'f')).toEqual(linked);
    expect(await fx.ns.lookup(d, 'g')).toEqual(linked);
    expect((await fx.ns.getattr(d)).nlink).toBe(2); // a file link is not a subdirectory
    const ids = await addChunks(fx.db, f, [0]);
    expect((await fx.ns.unlink(ROOT, 'f')).nlink).toBe(1);
    expect((await fx.ns.lookup(d, 'g')).nlink).toBe(1);
    expect(await chunkIdxs(fx.db, f)).toEqual([0]);
    expect((await fx.ns.unlink(d, 'g')).nlink).toBe(0);
    expect(await deletedChunks(fx.db)).toEqual(ids);
    expect(await fx.ns.statfsCounts()).toMatchObject({ files: 0, chunks: 0 });
  });

  it('link errnos: directory EPERM, existing name EEXIST, missing inode ENOENT, file parent ENOTDIR', async () => {
    const d = await dir(ROOT, 'd');
    const f = await file(ROOT, 'f');
    await expectErrno(fx.ns.link(d, ROOT, 'd2'), 'EPERM');
    await expectErrno(fx.ns.link(f, ROOT, 'd'), 'EEXIST');
    await expectErrno(fx.ns.link(f, ROOT, '.'), 'EEXIST');
    await expectErrno(fx.ns.link(9999, ROOT, 'x'), 'ENOENT');
    await expectErrno(fx.ns.link(f, f, 'x'), 'ENOTDIR');
  });

  it('rmdir: empty only, parent nlink - 1, dots, files', async () => {
    const d = await dir(ROOT, 'd');
    await dir(d, 'sub');
    await file(ROOT, 'f');
    expect((await fx.ns.getattr(ROOT)).nlink).toBe(3);
    await expectErrno(fx.ns.rmdir(ROOT, 'd'), 'ENOTEMPTY');
    await expectErrno(fx.ns.rmdir(ROOT, 'f'), 'ENOTDIR');
    await expectErrno(fx.ns.rmdir(ROOT, 'nope'), 'ENOENT');
    await expectErrno(fx.ns.rmdir(d, '.'), 'EINVAL');
    await expectErrno(fx.ns.rmdir(d, '..'), 'ENOTEMPTY');
    await fx.ns.rmdir(d, 'sub');
    expect((await fx.ns.getattr(d)).nlink).toBe(2);
    await fx.ns.rmdir(ROOT, 'd');
    expect((await fx.ns.getattr(ROOT)).nlink).toBe(2);
    await expectErrno(fx.ns.getattr(d), 'ENOENT');
    expect(await fx.ns.statfsCounts()).toEqual({ files: 1, directories: 1, chunks: 0 });
  });

  it('rename within a directory bumps ctime of the inode and the parent times', async () => {
    const f = await file(ROOT, 'a');
    const before = await fx.ns.getattr(f);
    const rootBefore = await fx.ns.getattr(ROOT);
    await sleep(1);
    await fx.ns.rename(ROOT, 'a', ROOT, 'b');
    await expectErrno(fx.ns.lookup(ROOT, 'a'), 'ENOENT');
    const after = await fx.ns.lookup(ROOT, 'b');
    expect(after.ino).toBe(f);
    expect(ns(after.ctime)).toBeGreaterThan(ns(before.ctime));
    expect(after.mtime).toEqual(before.mtime);
    const rootAfter = await fx.ns.getattr(ROOT);
    expect(ns(rootAfter.mtime)).toBeGreaterThan(ns(rootBefore.mtime));
    expect(rootAfter.nlink).toBe(2);
  });

  it('rename of a directory across parents moves nlink and the parent column', async () => {
    const a = await dir(ROOT, 'a');
    const b = await dir(ROOT, 'b');
    const m = await dir(a, 'm');
    const [aBefore, bBefore] = [await fx.ns.getattr(a), await fx.ns.getattr(b)];
    await sleep(1);
    await fx.ns.rename(a, 'm', b, 'n');
    const [aAfter, bAfter] = [await fx.ns.getattr(a), await fx.ns.getattr(b)];
    expect(aAfter.nlink).toBe(2);
    expect(bAfter.nlink).toBe(3);
    expect(ns(aAfter.mtime)).toBeGreaterThan(ns(aBefore.mtime));
    expect(ns(bAfter.ctime)).toBeGreaterThan(ns(bBefore.ctime));
    expect((await fx.ns.lookup(m, '..')).ino).toBe(b);
    expect((await fx.ns.lookup(b, 'n')).ino).toBe(m);
  });

  it('rename replacing a file keeps the old inode for opens racing it, then frees it and its chunks into deleted_chunks', async () => {
    const src = await file(ROOT, 'src');
    const victim = await file(ROOT, 'victim');
    await addChunks(fx.db, src, [0]);
    const victimChunks = await addChunks(fx.db, victim, [0, 1]);
    await fx.ns.rename(ROOT, 'src', ROOT, 'victim');
    expect((await fx.ns.lookup(ROOT, 'victim')).ino).toBe(src);
    await expectErrno(fx.ns.lookup(ROOT, 'src'), 'ENOENT');
    // An open that looked 'victim' up just before still finds the version it looked up.
    expect(await fx.ns.getattr(victim)).toMatchObject({ ino: victim, nlink: 0 });
    expect(await deletedChunks(fx.db)).toEqual([]);
    expect(await fx.ns.expireOrphans(Date.now() + REPLACED_GRACE_MS - 500)).toBe(0);
    expect(await fx.ns.expireOrphans(Date.now() + REPLACED_GRACE_MS + 1)).toBe(1);
    await expectErrno(fx.ns.getattr(victim), 'ENOENT');
    expect(await deletedChunks(fx.db)).toEqual(victimChunks);
    expect(await chunkIdxs(fx.db, src)).toEqual([0]);
    expect(await fx.ns.statfsCounts()).toEqual({ files: 1, directories: 1, chunks: 1 });
  });

  it('rename replacing a file that has another link only drops a link', async () => {
    const src = await file(ROOT, 'src');
    const victim = await file(ROOT, 'victim');
    await fx.ns.link(victim, ROOT, 'other');
    await fx.ns.rename(ROOT, 'src', ROOT, 'victim');
    expect((await fx.ns.lookup(ROOT, 'other')).nlink).toBe(1);
    expect((await fx.ns.lookup(ROOT, 'victim')).ino).toBe(src);
  });

  it('rename of a directory over an empty directory; non-empty is ENOTEMPTY', async () => {
    const a = await dir(ROOT, 'a');
    const b = await dir(ROOT, 'b');
    const p = await dir(ROOT, 'p');
    const full = await dir(p, 'full');
    await file(full, 'x');
    await expectErrno(fx.ns.rename(ROOT, 'a', p, 'full'), 'ENOTEMPTY');
    await fx.ns.rename(ROOT, 'a', ROOT, 'b'); // same parent: root loses b's link
    expect((await fx.ns.getattr(ROOT)).nlink).toBe(4);
    await expectErrno(fx.ns.getattr(b), 'ENOENT');
    await fx.ns.unlink(full, 'x');
    await fx.ns.rename(ROOT, 'b', p, 'full'); // across parents over an empty dir
    expect((await fx.ns.getattr(ROOT)).nlink).toBe(3);
    expect((await fx.ns.getattr(p)).nlink).toBe(3);
    expect((await fx.ns.lookup(p, 'full')).ino).toBe(a);
    expect(await fx.ns.statfsCounts()).toMatchObject({ directories: 3 });
  });

  it('rename type mismatches, noReplace, missing source, same inode', async () => {
    const d = await dir(ROOT, 'd');
    const f = await file(ROOT, 'f');
    await expectErrno(fx.ns.rename(ROOT, 'd', ROOT, 'f'), 'ENOTDIR');
    await expectErrno(fx.ns.rename(ROOT, 'f', ROOT, 'd'), 'EISDIR');
    await file(ROOT, 'g');
    await expectErrno(fx.ns.rename(ROOT, 'f', ROOT, 'g', true), 'EEXIST');
    await fx.ns.rename(ROOT, 'f', ROOT, 'h', true);
    await expectErrno(fx.ns.rename(ROOT, 'nope', ROOT, 'x'), 'ENOENT');
    await expectErrno(fx.ns.rename(ROOT, 'h', 9999, 'x'), 'ENOENT');
    await expectErrno(fx.ns.rename(ROOT, 'h', f, 'x'), 'ENOTDIR');
    // Two names of one inode: nothing happens, both names stay.
    await fx.ns.link(f, d, 'h2');
    await fx.ns.rename(ROOT, 'h', d, 'h2');
    expect((await fx.ns.lookup(ROOT, 'h')).nlink).toBe(2);
    expect((await fx.ns.lookup(d, 'h2')).ino).toBe(f);
    await fx.ns.rename(ROOT, 'h', ROOT, 'h');
  });

  it('rename of a directory into its own subtree is EINVAL; dots are EBUSY', async () => {
    const a = await dir(ROOT, 'a');
    const b = await dir(a, 'b');
    const c = await dir(b, 'c');
    await expectErrno(fx.ns.rename(ROOT, 'a', c, 'a'), 'EINVAL');
    await expectErrno(fx.ns.rename(ROOT, 'a', a, 'self'), 'EINVAL');
    await expectErrno(fx.ns.rename(a, 'b', c, 'x'), 'EINVAL');
    await expectErrno(fx.ns.rename(b, '.', ROOT, 'x'), 'EBUSY');
    await expectErrno(fx.ns.rename(b, '..', ROOT, 'x'), 'EBUSY');
    await expectErrno(fx.ns.rename(b, 'c', ROOT, '..'), 'EBUSY');
    await expectErrno(fx.ns.rename(b, 'c', ROOT, '.', true), 'EEXIST');
    // Moving upwards is fine.
    await fx.ns.rename(b, 'c', ROOT, 'c');
    expect((await fx.ns.lookup(c, '..')).ino).toBe(ROOT);
    expect((await fx.ns.getattr(c)).type).toBe(DIRECTORY);
  });
});
