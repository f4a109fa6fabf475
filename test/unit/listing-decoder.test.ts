/**
 * The hand-written listing decoder (client/listing-decoder.ts) against protobufjs followed by the
 * client's own conversion (types.ts): the same DirEntry and Attr for what the master's encoder
 * writes, for what protobufjs writes (other field order, packed or not), for negative times and
 * unknown fields; and a clear EIO for bytes that are not a listing.
 */
import { describe, expect, it } from 'vitest';
import { encodeReaddirManyResponse, encodeReaddirResponse } from '../../src/common/rpc/listing-encoder.js';
import { decodeReaddirManyPages, decodeReaddirPage } from '../../src/client/listing-decoder.js';
import { fst, toDirEntry, wireNumber } from '../../src/client/types.js';

const attr = (ino: number, i: number): fst.IAttr => ({
  ino, type: i % 3 === 0 ? fst.FileType.DIRECTORY : fst.FileType.REGULAR, mode: 0o644 + i, uid: 1000 + i, gid: i, nlink: 1 + (i % 4),
  size: i * 4097 + (i === 7 ? 2 ** 40 : 0), atime: { sec: 1_700_000_000 + i, nsec: i * 1000 }, mtime: { sec: i === 5 ? -86_401 : 1_600_000_000, nsec: 999_999_999 },
  ctime: { sec: 0, nsec: 0 }, rdev: i === 2 ? 259 : 0, replication: 2, hasXattrs: i % 2 === 0, changeSeq: i === 3 ? 2 ** 33 : 0,
});

const entries = (n: number, base: number): fst.IDirEntry[] => Array.from({ length: n }, (_, i) => ({
  name: i === 4 ? 'ünïcødé 名前' : `name-${i}`, ino: base + i, type: attr(0, i).type, attr: attr(base + i, i),
}));

/** What protobufjs and the client's conversion make of a ReaddirResponse's bytes. */
function reference(bytes: Uint8Array) {
  const r = fst.ReaddirResponse.decode(bytes);
  return { entries: r.entries.map(toDirEntry), more: r.more, changeSeq: wireNumber(r.changeSeq) };
}

describe('listing decoder', () => {
  it('reads a page as protobufjs does, from the encoder of the master and from protobufjs', () => {
    const res: fst.IReaddirResponse = { entries: entries(40, 100), more: true, changeSeq: 77 };
    for (const bytes of [encodeReaddirResponse(res), Buffer.from(fst.ReaddirResponse.encode(res).finish())]) {
      const page = decodeReaddirPage(bytes);
      expect(page).toEqual(reference(bytes));
      expect(page.entries[5]!.attr!.mtime.sec).toBe(-86_401);
      expect(page.entries[7]!.attr!.size).toBe(7 * 4097 + 2 ** 40);
      expect(page.entries[4]!.name).toBe('ünïcødé 名前');
    }
    // Empty, and entries without attributes.
    expect(decodeReaddirPage(Buffer.alloc(0))).toEqual({ entries: [], more: false, changeSeq: 0 });
    const bare = Buffer.from(fst.ReaddirResponse.encode({ entries: [{ name: 'x', ino: 9, type: fst.FileType.SYMLINK }] }).finish());
    expect(decodeReaddirPage(bare)).toEqual(reference(bare));
    expect(decodeReaddirPage(bare).entries[0]!.attr).toBeUndefined();
  });

  it('reads pages by directory and the directories left unlisted, packed or not, skipping unknown fields', () => {
    const res: fst.IReaddirManyResponse = {
      listings: [{ ino: 7, page: { entries: entries(3, 10), more: false, changeSeq: 1 } }, { ino: 2 ** 40 + 1, page: { entries: [], changeSeq: 0 } }],
      unlisted: [5, 300, 2 ** 45],
    };
    const expectPages = (bytes: Buffer): void => {
      const got = decodeReaddirManyPages(bytes);
      const ref = fst.ReaddirManyResponse.decode(bytes);
      expect([...got.pages.keys()]).toEqual(ref.listings.map((l) => wireNumber(l.ino)));
      for (const l of ref.listings) expect(got.pages.get(wireNumber(l.ino))).toEqual(reference(fst.ReaddirResponse.encode(l.page!).finish()));
      expect(got.unlisted).toEqual(ref.unlisted.map((v) => wireNumber(v)));
    };
    expectPages(encodeReaddirManyResponse(res));
    expectPages(Buffer.from(fst.ReaddirManyResponse.encode(res).finish()));
    // Unpacked unlisted values and an unknown field (number 9, each wire type) before the listings.
    const unknown = Buffer.from([0x48, 0x01, 0x49, 1, 2, 3, 4, 5, 6, 7, 8, 0x4a, 0x02, 0xaa, 0xbb, 0x4d, 1, 2, 3, 4, 0x10, 0x05, 0x10, 0x06]);
    const got = decodeReaddirManyPages(Buffer.concat([unknown, encodeReaddirManyResponse({ listings: res.listings })]));
    expect(got.unlisted).toEqual([5, 6]);
    expect([...got.pages.keys()]).toEqual([7, 2 ** 40 + 1]);
  });

  it('refuses bytes that are not a listing with EIO', () => {
    const good = encodeReaddirResponse({ entries: entries(2, 1), changeSeq: 3 });
    expect(() => decodeReaddirPage(good.subarray(0, good.length - 3))).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => decodeReaddirPage(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => decodeReaddirPage(Buffer.from([0x0f]))).toThrow(expect.objectContaining({ code: 'EIO' }));
    // An attribute message whose last field runs past the length it was given.
    expect(() => decodeReaddirPage(Buffer.from([0x0a, 0x05, 0x22, 0x02, 0x08, 0x96, 0x01]))).toThrow(expect.objectContaining({ code: 'EIO' }));
    // An inode number past 2^53.
    const huge = Buffer.from([0x0a, 0x0b, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(() => decodeReaddirPage(huge)).toThrow(expect.objectContaining({ code: 'EIO' }));
  });
});
