/** setattr (chmod, chown, truncate, utimens) and extended attributes. */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { ENGINES, ROOT, addChunks, chunkIdxs, deletedChunks, expectErrno, ns, sleep, useNamespace } from './helpers.js';

const F = fst.SetAttrField;
const { REGULAR } = fst.FileType;
const { XATTR_CREATE, XATTR_REPLACE } = fst.XattrFlag;

describe.each(ENGINES)('Namespace: setattr (%s)', (engine) => {
  const fx = useNamespace(engine);
  const file = async (name = 'f') => (await fx.ns.mknod(ROOT, name, REGULAR, 0o644, 0)).attr;

  it('chmod keeps only 07777 and bumps ctime only', async () => {
    const f = await file();
    await sleep(1);
    const a = await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_MODE, mode: 0o170755 });
    expect(a.mode).toBe(0o755);
    expect(ns(a.ctime)).toBeGreaterThan(ns(f.ctime));
    expect(a.mtime).toEqual(f.mtime);
    expect(a.atime).toEqual(f.atime);
  });

  it('chown changes uid and gid and clears setuid of a file', async () => {
    const f = await file();
    await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_MODE, mode: 0o4755 });
    const a = await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_UID | F.SET_ATTR_GID, uid: 12, gid: 34 });
    expect(a).toMatchObject({ uid: 12, gid: 34, mode: 0o755 });
  });

  it('explicit times round-trip in nanoseconds; omitted fields stay; explicit ctime', async () => {
    const f = await file();
    const atime = { sec: 1_600_000_000, nsec: 1 };
    const mtime = { sec: 1_650_000_000, nsec: 999_999_999 };
    const a = await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_ATIME | F.SET_ATTR_MTIME, atime, mtime });
    expect(a.atime).toEqual(atime);
    expect(a.mtime).toEqual(mtime);
    expect(await fx.ns.getattr(f.ino ?? 0)).toEqual(a);
    const b = await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_MTIME, mtime: { sec: 5, nsec: 6 } });
    expect(b.atime).toEqual(atime); // UTIME_OMIT
    const ctime = { sec: 7, nsec: 8 };
    expect((await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_CTIME, ctime })).ctime).toEqual(ctime);
    await expectErrno(fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_MTIME, mtime: { sec: 1, nsec: 1_000_000_000 } }), 'EINVAL');
    // No fields: nothing changes, not even ctime.
    expect(await fx.ns.setattr(f.ino ?? 0, { fields: 0 })).toEqual(await fx.ns.getattr(f.ino ?? 0));
  });

  it('ATIME_NOW / MTIME_NOW use the master clock', async () => {
    const f = await file();
    await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_ATIME | F.SET_ATTR_MTIME, atime: { sec: 1 }, mtime: { sec: 1 } });
    const a = await fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_ATIME_NOW | F.SET_ATTR_MTIME_NOW });
    expect(ns(a.atime)).toBeGreaterThanOrEqual(ns(f.ctime));
    expect(a.mtime).toEqual(a.atime);
    expect(a.ctime).toEqual(a.mtime);
  });

  it('truncate-shrink moves the chunks wholly past the new size to deleted_chunks', async () => {
    const f = await file();
    const ino = f.ino ?? 0;
    await fx.ns.setattr(ino, { fields: F.SET_ATTR_SIZE, size: 4 * CHUNK_SIZE });
    const ids = await addChunks(fx.db, ino, [0, 1, 2, 3]);
    await sleep(1);
    const a = await fx.ns.setattr(ino, { fields: F.SET_ATTR_SIZE, size: CHUNK_SIZE + 1 });
    expect(a.size).toBe(CHUNK_SIZE + 1);
    expect(ns(a.mtime)).toBeGreaterThan(ns(f.mtime));
    expect(a.ctime).toEqual(a.mtime);
    expect(await chunkIdxs(fx.db, ino)).toEqual([0, 1]);
    expect(await deletedChunks(fx.db)).toEqual(ids.slice(2));
    expect(await fx.ns.statfsCounts()).toMatchObject({ chunks: 2 });
    // Exactly on a chunk boundary: chunk 1 starts at the new end and goes too.
    await fx.ns.setattr(ino, { fields: F.SET_ATTR_SIZE, size: CHUNK_SIZE });
    expect(await chunkIdxs(fx.db, ino)).toEqual([0]);
    // Growing leaves a hole and drops nothing.
    await fx.ns.setattr(ino, { fields: F.SET_ATTR_SIZE, size: 10 * CHUNK_SIZE });
    expect(await chunkIdxs(fx.db, ino)).toEqual([0]);
    await fx.ns.setattr(ino, { fields: F.SET_ATTR_SIZE, size: 0 });
    expect(await chunkIdxs(fx.db, ino)).toEqual([]);
    expect(await fx.ns.statfsCounts()).toMatchObject({ chunks: 0 });
  });

  it('size on a directory is EISDIR, on a symlink EINVAL, negative EINVAL; missing inode ENOENT', async () => {
    const l = (await fx.ns.symlink(ROOT, 'l', 'x')).attr;
    await expectErrno(fx.ns.setattr(ROOT, { fields: F.SET_ATTR_SIZE, size: 0 }), 'EISDIR');
    await expectErrno(fx.ns.setattr(l.ino ?? 0, { fields: F.SET_ATTR_SIZE, size: 0 }), 'EINVAL');
    const f = await file();
    await expectErrno(fx.ns.setattr(f.ino ?? 0, { fields: F.SET_ATTR_SIZE, size: -1 }), 'EINVAL');
    await expectErrno(fx.ns.setattr(9999, { fields: F.SET_ATTR_MODE, mode: 0 }), 'ENOENT');
  });
});

describe.each(ENGINES)('Namespace: xattrs (%s)', (engine) => {
  const fx = useNamespace(engine);

  it('set, get, list, replace, remove; ctime bumps', async () => {
    const f = (await fx.ns.mknod(ROOT, 'f', REGULAR, 0o644, 0)).attr;
    const ino = f.ino ?? 0;
    await sleep(1);
    await fx.ns.setxattr(ino, 'user.b', Buffer.from('two'));
    const after = await fx.ns.getattr(ino);
    expect(ns(after.ctime)).toBeGreaterThan(ns(f.ctime));
    await fx.ns.setxattr(ino, 'user.a', new Uint8Array([0, 1, 2]), XATTR_CREATE);
    expect([...(await fx.ns.getxattr(ino, 'user.a'))]).toEqual([0, 1, 2]);
    expect(await fx.ns.listxattr(ino)).toEqual(['user.a', 'user.b']);
    await expectErrno(fx.ns.setxattr(ino, 'user.a', Buffer.from('x'), XATTR_CREATE), 'EEXIST');
    await expectErrno(fx.ns.setxattr(ino, 'user.c', Buffer.from('x'), XATTR_REPLACE), 'ENODATA');
    await fx.ns.setxattr(ino, 'user.a', Buffer.alloc(0), XATTR_REPLACE);
    expect((await fx.ns.getxattr(ino, 'user.a')).length).toBe(0);
    await fx.ns.removexattr(ino, 'user.a');
    await expectErrno(fx.ns.getxattr(ino, 'user.a'), 'ENODATA');
    await expectErrno(fx.ns.removexattr(ino, 'user.a'), 'ENODATA');
    expect(await fx.ns.listxattr(ino)).toEqual(['user.b']);
    await expectErrno(fx.ns.getxattr(9999, 'user.a'), 'ENOENT');
    await expectErrno(fx.ns.listxattr(9999), 'ENOENT');
  });

  it('says in the attributes whether an inode has xattrs, and keeps saying it across a schema upgrade', async () => {
    const f = (await fx.ns.mknod(ROOT, 'hx', REGULAR, 0o644, 0)).attr;
    const ino = f.ino ?? 0;
    expect(f.hasXattrs).toBe(false);
    await fx.ns.setxattr(ino, 'user.a', Buffer.from('1'));
    await fx.ns.setxattr(ino, 'user.b', Buffer.from('2'));
    expect((await fx.ns.getattr(ino)).hasXattrs).toBe(true);
    await fx.ns.removexattr(ino, 'user.a');
    expect((await fx.ns.getattr(ino)).hasXattrs).toBe(true);
    await fx.ns.removexattr(ino, 'user.b');
    expect((await fx.ns.getattr(ino)).hasXattrs).toBe(false);
    // A database written by a version-1 master (no flag column, no leases, no operations tables)
    // is upgraded through every version, with the flags right.
    await fx.ns.setxattr(ino, 'user.c', Buffer.from('3'));
    // Upgrades from older schema versions: SQLite only (PostgreSQL metadata is made at the current version).
    if (engine !== 'sqlite') return;
    await fx.db.write(async (tx) => {
      await tx.run('ALTER TABLE inodes DROP COLUMN has_xattrs');
      await tx.run('ALTER TABLE inodes DROP COLUMN change_seq');
      await tx.run('DROP TABLE inline_data');
      await tx.run('DROP TABLE leases');
      await tx.run('ALTER TABLE chunkservers DROP COLUMN decommission');
      await tx.run('DROP TABLE settings');
      await tx.run('DROP TABLE foreign_chunks');
      await tx.run('DROP TABLE orphans');
      await tx.run('DROP INDEX dentries_by_ino');
      await tx.run('DROP TABLE credentials');
      await tx.run('ALTER TABLE chunks DROP COLUMN version_ceiling');
      await tx.run('PRAGMA user_version = 1');
    });
    await fx.reopen();
    expect((await fx.ns.getattr(ino)).hasXattrs).toBe(true);
    expect((await fx.ns.getattr(ROOT)).hasXattrs).toBe(false);
    expect(await fx.db.reader.get('SELECT COUNT(*) AS n FROM leases')).toEqual({ n: 0 });
    expect(await fx.db.reader.get('SELECT COUNT(*) AS n FROM foreign_chunks')).toEqual({ n: 0 });
    expect(await fx.db.reader.get('SELECT COUNT(*) AS n FROM orphans')).toEqual({ n: 0 });
    expect(await fx.db.reader.get('SELECT COUNT(*) AS n FROM chunkservers WHERE decommission = 0')).toEqual({ n: 0 });
    expect(await fx.db.reader.get("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'dentries_by_ino'")).toEqual({ name: 'dentries_by_ino' });
    expect(await fx.db.reader.get('SELECT COUNT(*) AS n FROM credentials')).toEqual({ n: 0 });
  });

  it('limits: 64 KiB value, 255-byte name, empty name, namespaces', async () => {
    const ino = (await fx.ns.mknod(ROOT, 'f', REGULAR, 0o644, 0)).attr.ino ?? 0;
    await fx.ns.setxattr(ino, 'user.big', Buffer.alloc(64 * 1024));
    await expectErrno(fx.ns.setxattr(ino, 'user.big', Buffer.alloc(64 * 1024 + 1)), 'E2BIG');
    const long = 'user.' + 'n'.repeat(250);
    await fx.ns.setxattr(ino, long, Buffer.from('ok'));
    await expectErrno(fx.ns.setxattr(ino, long + 'n', Buffer.from('x')), 'ERANGE');
    await expectErrno(fx.ns.setxattr(ino, '', Buffer.from('x')), 'EINVAL');
    await expectErrno(fx.ns.setxattr(ino, 'user.', Buffer.from('x')), 'EINVAL');
    await expectErrno(fx.ns.setxattr(ino, 'other.x', Buffer.from('x')), 'ENOTSUP');
    for (const name of ['trusted.t', 'security.s', 'system.y']) await fx.ns.setxattr(ino, name, Buffer.from('v'));
    expect(await fx.ns.listxattr(ino)).toHaveLength(5);
  });
});
