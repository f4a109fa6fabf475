/**
 * What a metadata rebuild makes of the chunks it may adopt: files grouped by owner inode, each index
 * at its newest chunk id and highest version, sizes from where the last chunk's data ends, loose
 * chunks (no owner, or displaced by a newer id) as files of their own, and where each file goes.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { placeOf, planFiles, type ListedChunk } from '../../src/master/admin/rebuild-plan.js';

const chunk = (chunkId: number, owner: ListedChunk['owner'], ...copies: [server: number, version: number, length: number][]): ListedChunk =>
  ({ chunkId, owner, copies: copies.map(([serverId, version, length]) => ({ serverId, version, length })) });

describe('planFiles', () => {
  it('groups chunks by owner inode, at the highest version a copy holds', () => {
    const files = planFiles([
      chunk(12, { ino: 7, index: 1, path: '/a/big' }, [1, 3, 100], [2, 3, 100]),
      chunk(10, { ino: 7, index: 0, path: '/a/big-old-name' }, [1, 2, CHUNK_SIZE], [3, 4, CHUNK_SIZE], [2, 4, CHUNK_SIZE - 1]),
      chunk(20, { ino: 5, index: 0, path: '/small' }, [2, 1, 10]),
    ]);
    expect(files.map((f) => [f.kind, f.oldIno, f.lastKnownPath, f.size])).toEqual([
      ['owned', 5, '/small', 10],
      ['owned', 7, '/a/big', CHUNK_SIZE + 100],
    ]);
    expect(files[1]!.chunks.map((c) => [c.idx, c.chunkId, c.version, c.length, c.copies.length])).toEqual([
      [0, 10, 4, CHUNK_SIZE, 3],
      [1, 12, 3, 100, 2],
    ]);
  });

  it('keeps a file with a hole in the middle, sized by its last chunk', () => {
    const [f] = planFiles([chunk(3, { ino: 9, index: 2, path: '/holey' }, [1, 1, 5]), chunk(1, { ino: 9, index: 0, path: '/holey' }, [1, 1, 7])]);
    expect(f!.chunks.map((c) => c.idx)).toEqual([0, 2]);
    expect(f!.size).toBe(2 * CHUNK_SIZE + 5);
  });

  it('puts chunks without an owner, and older chunks displaced from their index, in files of their own', () => {
    const files = planFiles([
      chunk(40, undefined, [1, 2, 33]),
      chunk(30, { ino: 8, index: 0, path: '/f' }, [1, 1, 5]),
      chunk(35, { ino: 8, index: 0, path: '/f' }, [2, 1, 6]),
      chunk(50, { ino: 8, index: 1, path: '/f' }, [2, 1, 0]),
      chunk(60, undefined),
    ]);
    expect(files.map((f) => [f.kind, f.chunks.map((c) => c.chunkId), f.size])).toEqual([
      ['owned', [35, 50], CHUNK_SIZE],
      ['superseded', [30], 5],
      ['unowned', [40], 33],
    ]);
  });
});

describe('placeOf', () => {
  it('places a file at its last known path, one without a usable path by its old inode', () => {
    const [owned] = planFiles([chunk(1, { ino: 4, index: 0, path: '/dir/sub/name' }, [1, 1, 1])]);
    expect(placeOf(owned!)).toEqual(['dir', 'sub', 'name']);
    const [unnamed] = planFiles([chunk(1, { ino: 4, index: 0, path: '' }, [1, 1, 1])]);
    expect(placeOf(unnamed!)).toEqual(['unnamed', 'ino4']);
    const [odd] = planFiles([chunk(1, { ino: 5, index: 0, path: '/a/../b' }, [1, 1, 1])]);
    expect(placeOf(odd!)).toEqual(['unnamed', 'ino5']);
    const [loose] = planFiles([chunk(77, undefined, [1, 1, 1])]);
    expect(placeOf(loose!)).toEqual(['unowned', 'chunk-77']);
  });
});
