/** Permission checks for non-root callers: EACCES for mode bits, EPERM for ownership rules. */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { ENGINES, ROOT, alice, bob, expectErrno, rootCaller, useNamespace } from './helpers.js';

const F = fst.SetAttrField;
const { REGULAR } = fst.FileType;

describe.each(ENGINES)('Namespace: permissions (%s)', (engine) => {
  const fx = useNamespace(engine);
  /** A directory in the root with the given owner, group and mode (set by root). */
  const dirAs = async (name: string, uid: number, gid: number, mode: number) => {
    const d = (await fx.ns.mkdir(ROOT, name, 0o755)).attr;
    await fx.ns.setattr(d.ino ?? 0, { fields: F.SET_ATTR_UID | F.SET_ATTR_GID, uid, gid });
    return (await fx.ns.setattr(d.ino ?? 0, { fields: F.SET_ATTR_MODE, mode })).ino ?? 0;
  };

  it('search permission for lookup, by owner / group / other class', async () => {
    const priv = await dirAs('priv', alice.uid, 50, 0o750);
    await fx.ns.mknod(priv, 'f', REGULAR, 0o644, 0);
    expect((await fx.ns.lookup(priv, 'f', alice)).type).toBe(REGULAR);
    expect((await fx.ns.lookup(priv, 'f', { uid: 2000, gid: 2000, groups: [50] })).type).toBe(REGULAR);
    await expectErrno(fx.ns.lookup(priv, 'f', bob), 'EACCES');
    // Owner class wins even when it grants less than other.
    await fx.ns.setattr(priv, { fields: F.SET_ATTR_MODE, mode: 0o077 });
    await expectErrno(fx.ns.lookup(priv, 'f', alice), 'EACCES');
    expect((await fx.ns.lookup(priv, 'f', rootCaller)).type).toBe(REGULAR);
  });

  it('write+search on the parent for create, unlink, rmdir, link, rename', async () => {
    const d = await dirAs('d', alice.uid, alice.gid, 0o755);
    await fx.ns.mknod(d, 'f', REGULAR, 0o644, 0, alice);
    const f = (await fx.ns.lookup(d, 'f')).ino ?? 0;
    await fx.ns.mkdir(d, 'sub', 0o755, alice);
    await expectErrno(fx.ns.mknod(d, 'g', REGULAR, 0o644, 0, bob), 'EACCES');
    await expectErrno(fx.ns.mkdir(d, 'g', 0o755, bob), 'EACCES');
    await expectErrno(fx.ns.symlink(d, 'g', 't', bob), 'EACCES');
    await expectErrno(fx.ns.unlink(d, 'f', bob), 'EACCES');
    await expectErrno(fx.ns.rmdir(d, 'sub', bob), 'EACCES');
    await expectErrno(fx.ns.link(f, d, 'g', bob), 'EACCES');
    await expectErrno(fx.ns.rename(d, 'f', d, 'g', false, bob), 'EACCES');
    // An existing name is reported as such even without write permission (as Linux).
    await expectErrno(fx.ns.mkdir(d, 'sub', 0o755, bob), 'EEXIST');
    // Root (uid 0) passes.
    await fx.ns.rename(d, 'f', d, 'g', false, rootCaller);
    // The owner passes.
    expect((await fx.ns.unlink(d, 'g', alice)).nlink).toBe(0);
  });

  it('sticky directories: only the owner of the entry or of the directory may remove or rename', async () => {
    const tmp = await dirAs('tmp', 0, 0, 0o1777);
    await fx.ns.mknod(tmp, 'a', REGULAR, 0o666, 0, alice);
    await expectErrno(fx.ns.unlink(tmp, 'a', bob), 'EPERM');
    await expectErrno(fx.ns.rename(tmp, 'a', tmp, 'b', false, bob), 'EPERM');
    await fx.ns.mknod(tmp, 'mine', REGULAR, 0o644, 0, bob);
    await expectErrno(fx.ns.rename(tmp, 'mine', tmp, 'a', false, bob), 'EPERM'); // cannot replace alice's
    await fx.ns.rename(tmp, 'a', tmp, 'b', false, alice);
    await fx.ns.unlink(tmp, 'b', alice);
    const bobsTmp = await dirAs('bt', bob.uid, bob.gid, 0o1777);
    await fx.ns.mknod(bobsTmp, 'x', REGULAR, 0o644, 0, alice);
    await fx.ns.unlink(bobsTmp, 'x', bob); // owner of the directory
  });

  it('moving a directory to another parent needs write permission on it', async () => {
    const a = await dirAs('a', alice.uid, alice.gid, 0o755);
    const b = await dirAs('b', alice.uid, alice.gid, 0o755);
    const ro = (await fx.ns.mkdir(a, 'ro', 0o555, alice)).attr;
    await expectErrno(fx.ns.rename(a, 'ro', b, 'ro', false, alice), 'EACCES');
    await fx.ns.rename(a, 'ro', a, 'ro2', false, alice); // same parent: ".." unchanged
    await fx.ns.setattr(ro.ino ?? 0, { fields: F.SET_ATTR_MODE, mode: 0o755 }, alice);
    await fx.ns.rename(a, 'ro2', b, 'ro', false, alice);
  });

  it('chmod and chown rules', async () => {
    const d = await dirAs('d', alice.uid, alice.gid, 0o777);
    const f = (await fx.ns.mknod(d, 'f', REGULAR, 0o644, 0, alice)).attr.ino ?? 0;
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_MODE, mode: 0o777 }, bob), 'EPERM');
    expect((await fx.ns.setattr(f, { fields: F.SET_ATTR_MODE, mode: 0o600 }, alice)).mode).toBe(0o600);
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_UID, uid: bob.uid }, alice), 'EPERM');
    await fx.ns.setattr(f, { fields: F.SET_ATTR_UID, uid: alice.uid }, alice); // to itself: allowed
    expect((await fx.ns.setattr(f, { fields: F.SET_ATTR_GID, gid: 50 }, alice)).gid).toBe(50);
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_GID, gid: 999 }, alice), 'EPERM');
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_GID, gid: 50 }, bob), 'EPERM');
    expect((await fx.ns.setattr(f, { fields: F.SET_ATTR_UID, uid: bob.uid }, rootCaller)).uid).toBe(bob.uid);
    // setgid on a file of a group the caller is not in is dropped silently.
    const g = (await fx.ns.mknod(d, 'g', REGULAR, 0o644, 0, alice)).attr.ino ?? 0;
    await fx.ns.setattr(g, { fields: F.SET_ATTR_GID, gid: 999 }, rootCaller);
    expect((await fx.ns.setattr(g, { fields: F.SET_ATTR_MODE, mode: 0o2755 }, alice)).mode).toBe(0o755);
  });

  it('times and size rules', async () => {
    const d = await dirAs('d', alice.uid, alice.gid, 0o777);
    const f = (await fx.ns.mknod(d, 'f', REGULAR, 0o644, 0, alice)).attr.ino ?? 0;
    const t = { sec: 1, nsec: 2 };
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_MTIME, mtime: t }, bob), 'EPERM');
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_ATIME_NOW | F.SET_ATTR_MTIME_NOW }, bob), 'EACCES');
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_SIZE, size: 1 }, bob), 'EACCES');
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_CTIME, ctime: t }, alice), 'EPERM');
    await fx.ns.setattr(f, { fields: F.SET_ATTR_MTIME, mtime: t }, alice);
    await fx.ns.setattr(f, { fields: F.SET_ATTR_MODE, mode: 0o666 }, alice);
    // With write permission a non-owner may touch and truncate, but not set chosen times.
    await fx.ns.setattr(f, { fields: F.SET_ATTR_ATIME_NOW | F.SET_ATTR_MTIME_NOW }, bob);
    expect((await fx.ns.setattr(f, { fields: F.SET_ATTR_SIZE, size: 10 }, bob)).size).toBe(10);
    await expectErrno(fx.ns.setattr(f, { fields: F.SET_ATTR_ATIME, atime: t }, bob), 'EPERM');
  });

  it('xattr write permission', async () => {
    const d = await dirAs('d', alice.uid, alice.gid, 0o777);
    const f = (await fx.ns.mknod(d, 'f', REGULAR, 0o644, 0, alice)).attr.ino ?? 0;
    const l = (await fx.ns.symlink(d, 'l', 'f', alice)).attr.ino ?? 0;
    await fx.ns.setxattr(f, 'user.a', Buffer.from('1'), fst.XattrFlag.XATTR_ANY, alice);
    await expectErrno(fx.ns.setxattr(f, 'user.a', Buffer.from('2'), fst.XattrFlag.XATTR_ANY, bob), 'EACCES');
    await expectErrno(fx.ns.removexattr(f, 'user.a', bob), 'EACCES');
    await expectErrno(fx.ns.setxattr(f, 'trusted.a', Buffer.from('1'), fst.XattrFlag.XATTR_ANY, alice), 'EPERM');
    await expectErrno(fx.ns.setxattr(l, 'user.a', Buffer.from('1'), fst.XattrFlag.XATTR_ANY, alice), 'EPERM');
    await expectErrno(fx.ns.setxattr(f, 'security.a', Buffer.from('1'), fst.XattrFlag.XATTR_ANY, bob), 'EPERM');
    await fx.ns.setxattr(f, 'trusted.a', Buffer.from('1'), fst.XattrFlag.XATTR_ANY, rootCaller);
  });
});
