/** mknod, mkdir, symlink, lookup, getattr, readlink: creation rules, names, counters, restart. */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { ENGINES, ROOT, expectErrno, ns, useNamespace } from './helpers.js';

const { REGULAR, DIRECTORY, SYMLINK, FIFO, CHAR_DEVICE, SOCKET } = fst.FileType;

describe.each(ENGINES)('Namespace: create and look up (%s)', (engine) => {
  const fx = useNamespace(engine);
  /** Lets non-root callers create in the root directory. */
  const openRoot = () => fx.ns.setattr(ROOT, { fields: fst.SetAttrField.SET_ATTR_MODE, mode: 0o777 });

  it('root exists and ".." of root is root', async () => {
    const root = await fx.ns.getattr(ROOT);
    expect(root).toMatchObject({ ino: 1, type: DIRECTORY, mode: 0o755, nlink: 2, replication: 3 });
    expect((await fx.ns.lookup(ROOT, '..')).ino).toBe(ROOT);
    expect((await fx.ns.lookup(ROOT, '.')).ino).toBe(ROOT);
  });

  it('mknod creates a regular file, inherits replication, bumps the parent', async () => {
    await openRoot();
    const before = await fx.ns.getattr(ROOT);
    const caller = { uid: 1000, gid: 100, groups: [] };
    const { attr, created } = await fx.ns.mknod(ROOT, 'a.txt', REGULAR, 0o644, 0, caller, true);
    expect(created).toBe(true);
    expect(attr).toMatchObject({ type: REGULAR, mode: 0o644, uid: 1000, gid: 100, nlink: 1, size: 0, replication: 3 });
    expect(await fx.ns.lookup(ROOT, 'a.txt')).toEqual(attr);
    expect(await fx.ns.getattr(attr.ino ?? 0)).toEqual(attr);
    const after = await fx.ns.getattr(ROOT);
    expect(after.nlink).toBe(2);
    expect(ns(after.mtime)).toBeGreaterThan(ns(before.mtime));
    expect(ns(after.ctime)).toBe(ns(attr.ctime));
  });

  it('mknod without exclusive returns an existing regular file; EEXIST / EISDIR otherwise', async () => {
    const first = await fx.ns.mknod(ROOT, 'f', REGULAR, 0o600, 0, null, false);
    const again = await fx.ns.mknod(ROOT, 'f', REGULAR, 0o777, 0, null, false);
    // Nothing changed: the directory is answered as it was.
    expect(again).toEqual({ attr: first.attr, created: false, parentAttr: first.parentAttr });
    await expectErrno(fx.ns.mknod(ROOT, 'f', REGULAR, 0o600, 0, null, true), 'EEXIST');
    await fx.ns.mkdir(ROOT, 'd', 0o755);
    await expectErrno(fx.ns.mknod(ROOT, 'd', REGULAR, 0o600, 0, null, false), 'EISDIR');
    await expectErrno(fx.ns.mknod(ROOT, 'd', REGULAR, 0o600, 0, null, true), 'EEXIST');
    await fx.ns.mknod(ROOT, 'p', FIFO, 0o600, 0);
    await expectErrno(fx.ns.mknod(ROOT, 'p', REGULAR, 0o600, 0, null, false), 'EEXIST');
    await expectErrno(fx.ns.mknod(ROOT, '.', REGULAR, 0o600, 0, null, false), 'EISDIR');
    await expectErrno(fx.ns.mknod(ROOT, '..', REGULAR, 0o600, 0, null, true), 'EEXIST');
  });

  it('mknod makes fifos, devices and sockets but refuses directories and symlinks', async () => {
    expect((await fx.ns.mknod(ROOT, 'fifo', FIFO, 0o644, 0)).attr).toMatchObject({ type: FIFO, rdev: 0 });
    expect((await fx.ns.mknod(ROOT, 'tty', CHAR_DEVICE, 0o620, 0x0401)).attr).toMatchObject({ type: CHAR_DEVICE, rdev: 0x0401 });
    expect((await fx.ns.mknod(ROOT, 'sock', SOCKET, 0o755, 7)).attr).toMatchObject({ type: SOCKET, rdev: 0 });
    await expectErrno(fx.ns.mknod(ROOT, 'x', DIRECTORY, 0o755, 0), 'EINVAL');
    await expectErrno(fx.ns.mknod(ROOT, 'x', SYMLINK, 0o777, 0), 'EINVAL');
    await expectErrno(fx.ns.mknod(ROOT, 'x', fst.FileType.FILE_TYPE_UNSPECIFIED, 0o644, 0), 'EINVAL');
    // Only regular files count as files.
    expect(await fx.ns.statfsCounts()).toEqual({ files: 0, directories: 1, chunks: 0 });
  });

  it('mkdir: nlink 2, parent nlink + 1, parent column, "." and ".." resolve', async () => {
    await openRoot();
    const d = (await fx.ns.mkdir(ROOT, 'd', 0o755, { uid: 5, gid: 6, groups: [] })).attr;
    expect(d).toMatchObject({ type: DIRECTORY, nlink: 2, uid: 5, gid: 6, mode: 0o755, size: 0 });
    expect((await fx.ns.getattr(ROOT)).nlink).toBe(3);
    const sub = (await fx.ns.mkdir(d.ino ?? 0, 'sub', 0o700)).attr;
    expect((await fx.ns.getattr(d.ino ?? 0)).nlink).toBe(3);
    expect((await fx.ns.lookup(sub.ino ?? 0, '..')).ino).toBe(d.ino);
    expect((await fx.ns.lookup(sub.ino ?? 0, '.')).ino).toBe(sub.ino);
    await expectErrno(fx.ns.mkdir(ROOT, 'd', 0o755), 'EEXIST');
    await expectErrno(fx.ns.mkdir(ROOT, '.', 0o755), 'EEXIST');
    await expectErrno(fx.ns.mkdir(ROOT, '..', 0o755), 'EEXIST');
    expect(await fx.ns.statfsCounts()).toMatchObject({ directories: 3 });
  });

  it('setgid directories pass their group on, and their setgid bit to subdirectories', async () => {
    const d = (await fx.ns.mkdir(ROOT, 'shared', 0o2775, { uid: 0, gid: 77, groups: [] })).attr;
    expect(d.mode).toBe(0o775); // mkdir ignores setgid in its mode argument
    await fx.ns.setattr(d.ino ?? 0, { fields: fst.SetAttrField.SET_ATTR_MODE, mode: 0o2775 });
    const caller = { uid: 1000, gid: 1000, groups: [77] };
    const f = (await fx.ns.mknod(d.ino ?? 0, 'f', REGULAR, 0o644, 0, caller)).attr;
    expect(f).toMatchObject({ uid: 1000, gid: 77, mode: 0o644 });
    const sub = (await fx.ns.mkdir(d.ino ?? 0, 'sub', 0o755, caller)).attr;
    expect(sub).toMatchObject({ gid: 77, mode: 0o2755 });
  });

  it('name checks: empty, slash, NUL, 255 vs 256 bytes', async () => {
    await expectErrno(fx.ns.mknod(ROOT, '', REGULAR, 0o644, 0), 'EINVAL');
    await expectErrno(fx.ns.lookup(ROOT, ''), 'ENOENT');
    await expectErrno(fx.ns.mknod(ROOT, 'a/b', REGULAR, 0o644, 0), 'EINVAL');
    await expectErrno(fx.ns.mkdir(ROOT, 'a\0b', 0o755), 'EINVAL');
    await expectErrno(fx.ns.lookup(ROOT, 'a/b'), 'EINVAL');
    const n255 = 'x'.repeat(255);
    await fx.ns.mknod(ROOT, n255, REGULAR, 0o644, 0);
    expect((await fx.ns.lookup(ROOT, n255)).type).toBe(REGULAR);
    await expectErrno(fx.ns.mknod(ROOT, 'x'.repeat(256), REGULAR, 0o644, 0), 'ENAMETOOLONG');
    await expectErrno(fx.ns.lookup(ROOT, 'x'.repeat(256)), 'ENAMETOOLONG');
    // Bytes, not characters: 128 two-byte characters are 256 bytes.
    await expectErrno(fx.ns.mkdir(ROOT, 'é'.repeat(128), 0o755), 'ENAMETOOLONG');
    await fx.ns.mkdir(ROOT, 'é'.repeat(127), 0o755);
  });

  it('missing parent is ENOENT, a file as parent is ENOTDIR, a missing name is ENOENT', async () => {
    const f = (await fx.ns.mknod(ROOT, 'f', REGULAR, 0o644, 0)).attr;
    await expectErrno(fx.ns.mknod(9999, 'x', REGULAR, 0o644, 0), 'ENOENT');
    await expectErrno(fx.ns.mkdir(f.ino ?? 0, 'x', 0o755), 'ENOTDIR');
    await expectErrno(fx.ns.lookup(f.ino ?? 0, 'x'), 'ENOTDIR');
    await expectErrno(fx.ns.lookup(ROOT, 'nope'), 'ENOENT');
    await expectErrno(fx.ns.getattr(9999), 'ENOENT');
  });

  it('symlink and readlink', async () => {
    await openRoot();
    const target = '../some/where/ü';
    const l = (await fx.ns.symlink(ROOT, 'l', target, { uid: 3, gid: 4, groups: [] })).attr;
    expect(l).toMatchObject({ type: SYMLINK, mode: 0o777, nlink: 1, size: Buffer.byteLength(target), uid: 3, gid: 4 });
    expect(await fx.ns.readlink(l.ino ?? 0)).toBe(target);
    await expectErrno(fx.ns.readlink(ROOT), 'EINVAL');
    await expectErrno(fx.ns.symlink(ROOT, 'l', 'x'), 'EEXIST');
    await expectErrno(fx.ns.symlink(ROOT, 'e', ''), 'ENOENT');
    await expectErrno(fx.ns.symlink(ROOT, 'e', 'y'.repeat(4096)), 'ENAMETOOLONG');
    expect(await fx.ns.statfsCounts()).toEqual({ files: 0, directories: 1, chunks: 0 });
  });

  it('inode numbers are never reused after a delete', async () => {
    const a = (await fx.ns.mknod(ROOT, 'a', REGULAR, 0o644, 0)).attr;
    await fx.ns.unlink(ROOT, 'a');
    const b = (await fx.ns.mknod(ROOT, 'b', REGULAR, 0o644, 0)).attr;
    expect(b.ino).toBeGreaterThan(a.ino ?? 0);
  });

  it('50 concurrent mknods in one directory all succeed with distinct inodes (group commit)', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fx.ns.mknod(ROOT, `f${i}`, REGULAR, 0o644, 0, null, true)),
    );
    const inos = new Set(results.map((r) => r.attr.ino));
    expect(inos.size).toBe(50);
    expect(results.every((r) => r.created)).toBe(true);
    expect((await fx.ns.readdir(ROOT)).entries).toHaveLength(50);
    expect(await fx.ns.statfsCounts()).toMatchObject({ files: 50 });
  });

  it('a failed mutation leaves nothing behind (EEXIST inside a group)', async () => {
    const ops = await Promise.allSettled([
      fx.ns.mkdir(ROOT, 'same', 0o755),
      fx.ns.mkdir(ROOT, 'same', 0o755),
      fx.ns.mkdir(ROOT, 'other', 0o755),
    ]);
    expect(ops.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await fx.ns.getattr(ROOT)).nlink).toBe(4);
    expect(await fx.ns.statfsCounts()).toMatchObject({ directories: 3 });
  });

  it('data survives close and re-open, nanosecond times included', async () => {
    const d = (await fx.ns.mkdir(ROOT, 'keep', 0o750)).attr;
    const f = (await fx.ns.mknod(d.ino ?? 0, 'file', REGULAR, 0o640, 0)).attr;
    const mtime = { sec: 1_700_000_000, nsec: 123_456_789 };
    await fx.ns.setattr(f.ino ?? 0, { fields: fst.SetAttrField.SET_ATTR_MTIME, mtime });
    await fx.ns.setxattr(f.ino ?? 0, 'user.k', Buffer.from('v'));
    await fx.reopen();
    const again = await fx.ns.lookup(d.ino ?? 0, 'file');
    expect(again.ino).toBe(f.ino);
    expect(again.mtime).toEqual(mtime);
    expect((await fx.ns.getxattr(f.ino ?? 0, 'user.k')).toString()).toBe('v');
    expect(await fx.ns.statfsCounts()).toEqual({ files: 1, directories: 2, chunks: 0 });
    // The allocator continues after a restart.
    const g = (await fx.ns.mknod(ROOT, 'g', REGULAR, 0o644, 0)).attr;
    expect(g.ino).toBeGreaterThan(f.ino ?? 0);
  });
});
