/** The hand-written ReaddirResponse and ReaddirManyResponse encoders against protobufjs: what they write decodes to what was given. */
import { describe, expect, it } from 'vitest';
import { encodeReaddirManyResponse, encodeReaddirResponse } from '../../src/common/rpc/listing-encoder.js';
import { fst } from '../../src/proto-gen/fst.js';

const attr = (ino: number, over: Partial<fst.IAttr> = {}): fst.IAttr => ({
  ino, type: fst.FileType.REGULAR, mode: 0o644, uid: 1000, gid: 100, nlink: 1, size: 4096,
  atime: { sec: 1_700_000_000, nsec: 123_456_789 }, mtime: { sec: 1_700_000_001, nsec: 0 }, ctime: { sec: 1_700_000_002, nsec: 999_999_999 },
  rdev: 0, replication: 2, hasXattrs: false, changeSeq: 0, ...over,
});

function roundTrip(res: fst.IReaddirResponse): fst.ReaddirResponse {
  const mine = encodeReaddirResponse(res);
  const decoded = fst.ReaddirResponse.decode(mine);
  // The same message as protobufjs reads its own encoding of it.
  expect(fst.ReaddirResponse.toObject(decoded, { defaults: true })).toEqual(
    fst.ReaddirResponse.toObject(fst.ReaddirResponse.decode(fst.ReaddirResponse.encode(res).finish()), { defaults: true }),
  );
  return decoded;
}

describe('encodeReaddirResponse', () => {
  it('writes entries with and without attributes, names in UTF-8, and the page fields', () => {
    const d = roundTrip({
      entries: [
        { name: 'a.txt', ino: 2, type: fst.FileType.REGULAR, attr: attr(2) },
        { name: 'ünïcødé ☃', ino: 3, type: fst.FileType.DIRECTORY, attr: attr(3, { type: fst.FileType.DIRECTORY, nlink: 2, size: 0, changeSeq: 77, hasXattrs: true }) },
        { name: 'bare', ino: 4, type: fst.FileType.SYMLINK },
      ],
      more: true,
      changeSeq: 12345,
    });
    expect(d.entries.map((e) => e.name)).toEqual(['a.txt', 'ünïcødé ☃', 'bare']);
    expect(d.entries[1]!.attr?.changeSeq).toBe(77);
    expect(d.entries[1]!.attr?.hasXattrs).toBe(true);
    expect(d.entries[2]!.attr).toBeNull();
    expect(d.more).toBe(true);
  });

  it('writes large and negative numbers exactly (sizes past 2^32, times before 1970)', () => {
    const d = roundTrip({
      entries: [{ name: 'big', ino: 2 ** 40 + 7, type: fst.FileType.REGULAR, attr: attr(2 ** 40 + 7, {
        size: 2 ** 52 + 1, atime: { sec: -1, nsec: 5 }, mtime: { sec: -2_000_000_000, nsec: 0 }, ctime: { sec: 0, nsec: 0 }, uid: 2 ** 32 - 1,
      }) }],
      more: false,
      changeSeq: 0,
    });
    expect(Number(d.entries[0]!.attr!.size)).toBe(2 ** 52 + 1);
    expect(Number(d.entries[0]!.attr!.atime!.sec)).toBe(-1);
    expect(Number(d.entries[0]!.attr!.mtime!.sec)).toBe(-2_000_000_000);
  });

  it('writes an empty page', () => {
    expect(roundTrip({ entries: [], more: false, changeSeq: 0 }).entries).toEqual([]);
    expect(encodeReaddirResponse({ entries: [], more: false, changeSeq: 0 })).toHaveLength(0);
  });

  it('matches protobufjs on a page of a thousand entries', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => ({ name: `file-${i}`, ino: 100 + i, type: fst.FileType.REGULAR, attr: attr(100 + i, { size: i * 1000 }) }));
    expect(roundTrip({ entries, more: true, changeSeq: 9 }).entries).toHaveLength(1000);
  });
});

describe('encodeReaddirManyResponse', () => {
  it('wraps each page in its DirListing as protobufjs does, pages empty and full alike', () => {
    const res: fst.IReaddirManyResponse = {
      listings: [
        { ino: 7, page: { entries: [{ name: 'x', ino: 8, type: fst.FileType.REGULAR, attr: attr(8) }], more: true, changeSeq: 3 } },
        { ino: 2 ** 40 + 1, page: { entries: [], more: false, changeSeq: 0 } },
        { ino: 9, page: { entries: Array.from({ length: 300 }, (_, i) => ({ name: `n${i}`, ino: 1000 + i, type: fst.FileType.DIRECTORY, attr: attr(1000 + i) })), more: false, changeSeq: 12 } },
      ],
    };
    const decoded = fst.ReaddirManyResponse.decode(encodeReaddirManyResponse(res));
    expect(fst.ReaddirManyResponse.toObject(decoded, { defaults: true })).toEqual(
      fst.ReaddirManyResponse.toObject(fst.ReaddirManyResponse.decode(fst.ReaddirManyResponse.encode(res).finish()), { defaults: true }),
    );
    expect(decoded.listings.map((l) => Number(l.ino))).toEqual([7, 2 ** 40 + 1, 9]);
    expect(decoded.listings[2]!.page!.entries).toHaveLength(300);
    expect(encodeReaddirManyResponse({ listings: [] })).toHaveLength(0);
    // Directories left unlisted (a descending call), packed.
    const withRest = fst.ReaddirManyResponse.decode(encodeReaddirManyResponse({ ...res, unlisted: [5, 300, 2 ** 40 + 3] }));
    expect(withRest.unlisted.map(Number)).toEqual([5, 300, 2 ** 40 + 3]);
    expect(withRest.listings).toHaveLength(3);
  });
});
