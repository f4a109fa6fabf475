/**
 * What a mount keeps as exact attributes in a delegated directory (client/vfs/exact-attrs.ts),
 * alone: which listings and answers count, what makes an inode unknown, and that an earlier
 * grant's listing is never taken. Through real mounts: test/fuse/delegated-dirs.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fst, type Attr } from '../../src/client/types.js';
import { ExactAttrs } from '../../src/client/vfs/exact-attrs.js';

const DIR = 10;
const t = { sec: 1, nsec: 0 };
const file = (ino: number, o: Partial<Attr> = {}): Attr => ({
  ino, type: fst.FileType.REGULAR, mode: 0o644, uid: 0, gid: 0, nlink: 1, size: 0, atime: t, mtime: t, ctime: t,
  rdev: 0, replication: 2, hasXattrs: false, changeSeq: 0, ...o,
});
const all = (): boolean => true;

/** A grant of DIR read under, and the token to read it with. */
function granted(e: ExactAttrs, exact = true): number | undefined {
  e.granted(DIR, exact);
  return e.toRead(DIR);
}

describe('exact attributes in a delegated directory', () => {
  it('keeps the files of a listing read under a grant that vouches for them, and no directories or files with several names', () => {
    const e = new ExactAttrs();
    const token = granted(e)!;
    e.fill(DIR, token, [['a', file(1)], ['d', file(2, { type: fst.FileType.DIRECTORY, nlink: 2 })], ['h', file(3, { nlink: 2 })]], all);
    expect(e.get(1)).toMatchObject({ dir: DIR, name: 'a', attr: { ino: 1 } });
    expect(e.get(2)).toBeUndefined();
    expect(e.get(3)).toBeUndefined();
    // Read once per grant.
    expect(e.toRead(DIR)).toBeUndefined();
  });

  it('reads nothing under a grant that does not vouch for attributes', () => {
    const e = new ExactAttrs();
    expect(granted(e, false)).toBeUndefined();
  });

  it('takes no listing read for an earlier grant, nor one read after the delegation ended', () => {
    const e = new ExactAttrs();
    const first = granted(e)!;
    const second = granted(e)!;
    e.fill(DIR, first, [['a', file(1)]], all);
    expect(e.get(1)).toBeUndefined();
    e.dropDir(DIR);
    e.fill(DIR, second, [['a', file(1)]], all);
    expect(e.get(1)).toBeUndefined();
  });

  it('leaves unknown what was heard of while the listing was read, until an answer to a call sent under the grant', () => {
    const e = new ExactAttrs();
    const token = granted(e)!;
    e.fill(DIR, token, [['a', file(1)], ['b', file(2)]], (ino) => ino !== 2);
    expect(e.get(2)).toBeUndefined();
    expect(e.grantOf(2)).toBe(token);
    e.learned(file(2, { mode: 0o600 }), token);
    expect(e.get(2)?.attr.mode).toBe(0o600);
    // An answer to a call sent under another grant does not count.
    e.heard(file(2, { mode: 0o640 }));
    e.learned(file(2, { mode: 0o640 }), token + 1);
    expect(e.get(2)).toBeUndefined();
  });

  it('forgets what differs from news of the inode, and keeps its own changes', () => {
    const e = new ExactAttrs();
    const token = granted(e)!;
    e.fill(DIR, token, [['a', file(1)]], all);
    const mine = file(1, { mode: 0o600, ctime: { sec: 2, nsec: 0 } });
    e.changedHere(mine);
    e.heard(mine);
    e.heard(file(1, { mode: 0o600, ctime: { sec: 2, nsec: 0 } }));
    expect(e.get(1)?.attr).toBe(mine);
    e.heard(file(1, { size: 5 }));
    expect(e.get(1)).toBeUndefined();
  });

  it('takes what the master answered to a create sent under a grant that vouches for attributes, and nothing under another', () => {
    const e = new ExactAttrs();
    e.granted(DIR, true);
    const token = e.exactGrant(DIR)!;
    e.made(DIR, token, 'new', file(7));
    expect(e.get(7)).toMatchObject({ dir: DIR, name: 'new' });
    e.granted(DIR, true);
    e.made(DIR, token, 'late', file(8));
    expect(e.get(8)).toBeUndefined();
    e.granted(DIR, false);
    expect(e.exactGrant(DIR)).toBeUndefined();
  });

  it('asks for a directory after a few attribute changes of its files went to the master', () => {
    const e = new ExactAttrs();
    expect([1, 2, 3, 4].map(() => e.sentToMaster(DIR))).toEqual([false, false, false, true]);
    expect(e.wanted(DIR)).toBe(true);
    const token = granted(e)!;
    e.fill(DIR, token, [], all);
    expect(e.wanted(DIR)).toBe(false);
  });
});
