/**
 * Orphans: a file whose last name is removed while a client has it open (keep_ino) stays, nameless,
 * with its chunks, until that client releases it or stops renewing its lease (kept across a master
 * restart, as the table is part of the metadata).
 */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { ORPHAN_LEASE_MS } from '../../src/master/tree/orphans.js';
import { ENGINES, ROOT, addChunks, chunkIdxs, deletedChunks, expectErrno, useNamespace } from './helpers.js';

const { REGULAR } = fst.FileType;

describe.each(ENGINES)('Namespace: orphans (files removed while open) (%s)', (engine) => {
  const fx = useNamespace(engine);
  const file = async (name: string) => (await fx.ns.mknod(ROOT, name, REGULAR, 0o644, 0)).attr.ino ?? 0;

  it('keeps an unlinked inode its client has open, with its chunks, until released', async () => {
    const f = await file('open');
    const ids = await addChunks(fx.db, f, [0, 1]);
    expect((await fx.ns.unlink(ROOT, 'open', undefined, f)).nlink).toBe(0);
    await expectErrno(fx.ns.lookup(ROOT, 'open'), 'ENOENT');
    expect((await fx.ns.getattr(f)).nlink).toBe(0);
    expect(await chunkIdxs(fx.db, f)).toEqual([0, 1]);
    // Kept across a master restart.
    await fx.reopen();
    expect((await fx.ns.getattr(f)).nlink).toBe(0);
    expect(await fx.ns.updateOrphans([f], [])).toEqual([]);
    await fx.ns.updateOrphans([], [f]);
    await expectErrno(fx.ns.getattr(f), 'ENOENT');
    expect(await deletedChunks(fx.db)).toEqual(ids);
    // Renewing one that is gone says so.
    expect(await fx.ns.updateOrphans([f], [])).toEqual([f]);
  });

  it('frees at once what the client does not keep, and a keep of another inode changes nothing', async () => {
    const a = await file('a');
    const b = await file('b');
    await fx.ns.unlink(ROOT, 'a', undefined, b);
    await expectErrno(fx.ns.getattr(a), 'ENOENT');
    expect((await fx.ns.getattr(b)).nlink).toBe(1);
    // A file with another name left is no orphan: it keeps its name and its data.
    const c = await file('c');
    await fx.ns.link(c, ROOT, 'c2');
    expect((await fx.ns.unlink(ROOT, 'c', undefined, c)).nlink).toBe(1);
    await fx.ns.updateOrphans([], [c]);
    expect((await fx.ns.getattr(c)).nlink).toBe(1);
  });

  it('keeps the target a rename replaced, when its client has it open', async () => {
    const old = await file('target');
    await file('new');
    await fx.ns.rename(ROOT, 'new', ROOT, 'target', false, undefined, old);
    expect((await fx.ns.getattr(old)).nlink).toBe(0);
    expect((await fx.ns.lookup(ROOT, 'target')).ino).not.toBe(old);
    // An orphan cannot be given a name again (as Linux: link of an unlinked file is ENOENT).
    await expectErrno(fx.ns.link(old, ROOT, 'back'), 'ENOENT');
  });

  it('frees orphans whose lease ran out (their client is gone), and only those', async () => {
    const stale = await file('stale');
    const live = await file('live');
    await fx.ns.unlink(ROOT, 'stale', undefined, stale);
    await fx.ns.unlink(ROOT, 'live', undefined, live);
    const later = Date.now() + ORPHAN_LEASE_MS / 2;
    await fx.db.write((tx) => tx.run('UPDATE orphans SET expires_ms = ? WHERE ino = ?', [later + ORPHAN_LEASE_MS, live]));
    expect(await fx.ns.expireOrphans(Date.now() + ORPHAN_LEASE_MS + 1)).toBe(1);
    await expectErrno(fx.ns.getattr(stale), 'ENOENT');
    expect((await fx.ns.getattr(live)).nlink).toBe(0);
    expect(await fx.ns.statfsCounts()).toMatchObject({ files: 1 });
  });
});
