/**
 * Every mutation that adds or removes a name answers with its directories' attributes after the
 * change (NFS "wcc data"). They must be exactly what was committed: equal to a fresh getattr, with
 * the link count and times the change gave them, and, when several mutations share one group
 * commit, each answer must show its own change (read inside its transaction, not before or after).
 */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { ENGINES, ROOT, expectErrno, ns, sleep, useNamespace } from './helpers.js';

const { REGULAR } = fst.FileType;

describe.each(ENGINES)('Namespace: parent attributes in mutation answers (%s)', (engine) => {
  const fx = useNamespace(engine);
  const dir = async (parent: number, name: string) => (await fx.ns.mkdir(parent, name, 0o755)).attr.ino ?? 0;
  const file = async (parent: number, name: string) => (await fx.ns.mknod(parent, name, REGULAR, 0o644, 0)).attr.ino ?? 0;
  /** Answers and a fresh getattr must agree on every field; returns the fresh attributes. */
  const expectCommitted = async (answered: fst.IAttr, ino: number) => {
    const fresh = await fx.ns.getattr(ino);
    expect(answered).toEqual(fresh);
    return fresh;
  };

  it('mknod and symlink: the directory with its new mtime and ctime, nlink unchanged', async () => {
    const d = await dir(ROOT, 'd');
    const before = await fx.ns.getattr(d);
    await sleep(1);
    const made = await fx.ns.mknod(d, 'f', REGULAR, 0o644, 0);
    const after = await expectCommitted(made.parentAttr, d);
    expect(after.nlink).toBe(before.nlink);
    expect(ns(after.mtime)).toBeGreaterThan(ns(before.mtime));
    expect(after.ctime).toEqual(after.mtime);
    expect(after.mtime).toEqual(made.attr.mtime); // one clock reading for the file and its directory

    await sleep(1);
    const link = await fx.ns.symlink(d, 'l', 'f');
    const later = await expectCommitted(link.parentAttr, d);
    expect(later.ino).toBe(d);
    expect(ns(later.mtime)).toBeGreaterThan(ns(after.mtime));
  });

  it('mkdir: the parent gains a link; rmdir: it loses it again', async () => {
    const d = await dir(ROOT, 'd');
    const made = await fx.ns.mkdir(d, 'sub', 0o755);
    expect((await expectCommitted(made.parentAttr, d)).nlink).toBe(3);
    await sleep(1);
    const removed = await fx.ns.rmdir(d, 'sub');
    const after = await expectCommitted(removed.parentAttr, d);
    expect(after.nlink).toBe(2);
    expect(ns(after.mtime)).toBeGreaterThan(ns(made.parentAttr.mtime));
  });

  it('unlink: the directory after the change, whether the inode survives or not', async () => {
    const d = await dir(ROOT, 'd');
    const f = await file(d, 'f');
    await fx.ns.link(f, d, 'g');
    const first = await fx.ns.unlink(d, 'f');
    expect(first.nlink).toBe(1);
    await expectCommitted(first.parentAttr, d);
    await sleep(1);
    const last = await fx.ns.unlink(d, 'g');
    expect(last.nlink).toBe(0);
    const after = await expectCommitted(last.parentAttr, d);
    expect(ns(after.mtime)).toBeGreaterThan(ns(first.parentAttr.mtime));
  });

  it('rename across directories: both parents, their links moved with a directory', async () => {
    const a = await dir(ROOT, 'a');
    const b = await dir(ROOT, 'b');
    await dir(a, 'moving');
    await dir(b, 'victim'); // an empty directory replaced: b loses its link, gains the mover's
    await dir(a, 'other');
    const res = await fx.ns.rename(a, 'moving', b, 'victim');
    expect((await expectCommitted(res.parentAttr, a)).nlink).toBe(3); // 2 + other
    expect((await expectCommitted(res.newParentAttr, b)).nlink).toBe(3); // 2 + victim - victim + moving
    expect(res.parentAttr.mtime).toEqual(res.newParentAttr.mtime);

    await file(a, 'f');
    const moved = await fx.ns.rename(a, 'f', b, 'f');
    expect((await expectCommitted(moved.parentAttr, a)).nlink).toBe(3);
    expect((await expectCommitted(moved.newParentAttr, b)).nlink).toBe(3);
  });

  it('rename in one directory answers it twice; a rename that changes nothing answers it unchanged', async () => {
    const d = await dir(ROOT, 'd');
    const f = await file(d, 'f');
    await sleep(1);
    const res = await fx.ns.rename(d, 'f', d, 'g');
    await expectCommitted(res.parentAttr, d);
    expect(res.newParentAttr).toEqual(res.parentAttr);

    await fx.ns.link(f, d, 'h');
    const before = await fx.ns.getattr(d);
    const same = await fx.ns.rename(d, 'g', d, 'h'); // two names of one inode: nothing happens
    expect(same.parentAttr).toEqual(before);
    expect(same.newParentAttr).toEqual(before);
    await expectCommitted(same.parentAttr, d);
  });

  it("link: the new name's directory; the source's directory is left alone", async () => {
    const a = await dir(ROOT, 'a');
    const b = await dir(ROOT, 'b');
    const f = await file(a, 'f');
    const aBefore = await fx.ns.getattr(a);
    await sleep(1);
    const res = await fx.ns.link(f, b, 'g');
    const after = await expectCommitted(res.newParentAttr, b);
    expect(after.nlink).toBe(2);
    expect(after.mtime).toEqual(res.attr.ctime);
    expect(await fx.ns.getattr(a)).toEqual(aBefore);
  });

  it('mknod of an existing file without O_EXCL answers the directory as it is', async () => {
    const d = await dir(ROOT, 'd');
    await file(d, 'f');
    const before = await fx.ns.getattr(d);
    const again = await fx.ns.mknod(d, 'f', REGULAR, 0o644, 0, null, false);
    expect(again.created).toBe(false);
    expect(again.parentAttr).toEqual(before);
  });

  it('mutations grouped into one commit each answer their own change', async () => {
    const d = await dir(ROOT, 'd');
    // Concurrent mutations share a transaction (one SAVEPOINT each): each answer must count the
    // subdirectories made up to and including its own, never a snapshot from before or after.
    const made = await Promise.all(Array.from({ length: 20 }, (_, i) => fx.ns.mkdir(d, `s${i}`, 0o755)));
    const nlinks = made.map((m) => m.parentAttr.nlink).sort((x, y) => (x ?? 0) - (y ?? 0));
    expect(nlinks).toEqual(Array.from({ length: 20 }, (_, i) => 3 + i));
    const last = made.reduce((x, y) => (ns(x.parentAttr.ctime) > ns(y.parentAttr.ctime) ? x : y));
    await expectCommitted(last.parentAttr, d);
    // A failing mutation in a group rolls back alone and answers nothing.
    const mixed = await Promise.allSettled([fx.ns.mkdir(d, 's0', 0o755), fx.ns.mkdir(d, 'new', 0o755)]);
    expect(mixed.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    const ok = mixed[1];
    if (ok?.status !== 'fulfilled') throw new Error('unreachable');
    expect(ok.value.parentAttr.nlink).toBe(23);
    await expectCommitted(ok.value.parentAttr, d);
    await expectErrno(fx.ns.rmdir(d, 'missing'), 'ENOENT');
  });
});
