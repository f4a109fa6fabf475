/** KernelPages: when an open may keep the kernel's pages of a file (the rule in kernel-pages.ts). */
import { describe, expect, it } from 'vitest';
import { KernelPages } from '../../src/client/vfs/kernel-pages.js';
import { fst, type Attr } from '../../src/client/types.js';

function attr(ino: number, size: number, ctimeNs: number): Attr {
  const t = { sec: 1_700_000_000, nsec: ctimeNs };
  return {
    ino, type: fst.FileType.REGULAR, mode: 0o644, uid: 0, gid: 0, nlink: 1, size, atime: t, mtime: t, ctime: t,
    rdev: 0, replication: 2, hasXattrs: false, changeSeq: 0,
  };
}

describe('KernelPages', () => {
  it('keeps pages from the second open of unchanged data, and not after a change anywhere', () => {
    const p = new KernelPages();
    expect(p.opening(attr(5, 100, 1), undefined)).toBe(false);
    expect(p.opening(attr(5, 100, 1), undefined)).toBe(true);
    // Another mount wrote: new ctime, same size.
    expect(p.opening(attr(5, 100, 2), undefined)).toBe(false);
    expect(p.opening(attr(5, 100, 2), undefined)).toBe(true);
    // This mount wrote.
    p.changed(5);
    expect(p.opening(attr(5, 100, 2), undefined)).toBe(false);
    expect(p.opening(attr(5, 100, 2), undefined)).toBe(true);
  });

  it('keeps pages beside a descriptor that sees the same data, and forgets them beside one that does not', () => {
    const p = new KernelPages();
    p.opening(attr(7, 10, 1), undefined);
    expect(p.opening(attr(7, 10, 1), { attr: attr(7, 10, 1), writing: false })).toBe(true);
    expect(p.opening(attr(7, 10, 1), { attr: attr(7, 10, 1), writing: true })).toBe(false);
    // The writer's descriptor made the record go: the next lone open drops the pages too.
    expect(p.opening(attr(7, 10, 1), undefined)).toBe(false);
    // An open beside an older descriptor (it may still fill pages with what it saw) records nothing.
    expect(p.opening(attr(7, 10, 2), { attr: attr(7, 10, 1), writing: false })).toBe(false);
    expect(p.opening(attr(7, 10, 2), { attr: attr(7, 10, 2), writing: false })).toBe(false);
    expect(p.opening(attr(7, 10, 2), undefined)).toBe(false);
    expect(p.opening(attr(7, 10, 2), undefined)).toBe(true);
  });

  it('forgets the oldest record beyond its limit', () => {
    const p = new KernelPages(2);
    for (const ino of [1, 2, 3]) p.opening(attr(ino, 1, 1), undefined);
    expect(p.opening(attr(1, 1, 1), undefined)).toBe(false);
    expect(p.opening(attr(3, 1, 1), undefined)).toBe(true);
  });
});
