import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import {
  allowedLength, compareChunk, compareUnknown, findingKey, judge,
  type Finding, type Holding, type RecordedChunk, type ServerView,
} from '../../src/master/admin/fsck-compare.js';

const MiB = 1024 * 1024;

/** Servers 1-3 checked, 4 checked but draining, 5 unreachable, anything else dead. */
const views: Record<number, ServerView> = {
  1: { state: 'checked', draining: false, address: 'a:1' },
  2: { state: 'checked', draining: false, address: 'b:2' },
  3: { state: 'checked', draining: false, address: 'c:3' },
  4: { state: 'checked', draining: true, address: 'd:4' },
  5: { state: 'unreachable', draining: false, address: 'e:5' },
};
const viewOf = (id: number): ServerView => views[id] ?? { state: 'dead', draining: false, address: '' };

const chunk = (replicas: [number, number][], o: Partial<RecordedChunk> = {}): RecordedChunk => ({
  chunkId: 7, ino: 42, idx: 0, version: 5, goal: 2, fileSize: 3 * MiB, leased: false,
  replicas: replicas.map(([serverId, version]) => ({ serverId, version })), ...o,
});
const held = (serverId: number, version = 5, length = 3 * MiB, filesMissing = false): Holding => ({ serverId, version, length, filesMissing });
const kinds = (fs: Finding[]): string[] => fs.map((f) => `${f.kind}@${f.serverId}`).sort();

describe('compareChunk', () => {
  it('finds nothing when the rows say what the servers hold', () => {
    expect(compareChunk(chunk([[1, 5], [2, 5]]), [held(1), held(2)], viewOf)).toEqual([]);
  });

  it('finds a replica the master records but its server does not hold, and the chunk below its goal', () => {
    const fs = compareChunk(chunk([[1, 5], [2, 5]]), [held(1)], viewOf);
    expect(kinds(fs)).toEqual(['lost-replica@2', 'under-replicated@0']);
    expect(fs.find((f) => f.kind === 'lost-replica')!.repair).toEqual({ do: 'forget', serverId: 2, version: 5 });
    expect(fs.find((f) => f.kind === 'under-replicated')!.repair).toEqual({ do: 'copy' });
    expect(fs.every((f) => f.ino === 42 && f.chunkId === 7 && !f.certain)).toBe(true);
  });

  it('takes a copy whose files a server found gone as lost for certain, recorded or not', () => {
    const fs = compareChunk(chunk([[1, 5], [2, 5]]), [held(1), held(2, 5, 3 * MiB, true)], viewOf);
    expect(kinds(fs)).toEqual(['lost-replica@2', 'under-replicated@0']);
    expect(fs.find((f) => f.kind === 'lost-replica')).toMatchObject({ certain: true, repair: { do: 'forget', serverId: 2, version: 5 } });
    // The server dropped it already (fsck --repair), so the row is gone: still reported, nothing to forget.
    const gone = compareChunk(chunk([[1, 5]]), [held(1), held(2, 5, 3 * MiB, true)], viewOf);
    expect(gone.find((f) => f.kind === 'lost-replica')).toMatchObject({ serverId: 2, certain: true, repair: { do: 'forget', version: undefined } });
  });

  it('records a current copy the master does not know of', () => {
    const fs = compareChunk(chunk([[1, 5], [2, 5]]), [held(1), held(2), held(3)], viewOf);
    expect(kinds(fs)).toEqual(['over-replicated@0', 'unrecorded-replica@3']);
    expect(fs.find((f) => f.kind === 'unrecorded-replica')!.repair).toEqual({ do: 'record', serverId: 3, version: 5 });
    expect(fs.find((f) => f.kind === 'over-replicated')!.repair).toEqual({ do: 'trim' });
    // A row at an older version whose server holds the current one is put right the same way.
    expect(compareChunk(chunk([[1, 5], [2, 4]]), [held(1), held(2)], viewOf).map((f) => f.repair)).toEqual([{ do: 'record', serverId: 2, version: 5 }]);
  });

  it('deletes an older copy only while a current one is live elsewhere', () => {
    const fs = compareChunk(chunk([[1, 5], [2, 5], [3, 4]]), [held(1), held(2), held(3, 4)], viewOf);
    expect(kinds(fs)).toEqual(['stale-replica@3']);
    expect(fs[0]!.repair).toEqual({ do: 'delete', serverId: 3, version: 4, forget: 4 });
    // Unrecorded stale copies too (nothing to forget).
    expect(compareChunk(chunk([[1, 5], [2, 5]]), [held(1), held(2), held(3, 3)], viewOf)[0]!.repair).toEqual({ do: 'delete', serverId: 3, version: 3, forget: undefined });
    // The last copy of the data is never deleted: the chunk is missing and the stale copy kept.
    const last = compareChunk(chunk([[1, 5], [3, 4]]), [held(3, 4)], viewOf);
    expect(kinds(last)).toEqual(['lost-replica@1', 'missing@0', 'stale-replica@3']);
    expect(last.find((f) => f.kind === 'stale-replica')!.repair).toBeUndefined();
    expect(last.find((f) => f.kind === 'missing')!.repair).toBeUndefined();
  });

  it('calls a row at the current version over an older copy a lost replica', () => {
    const fs = compareChunk(chunk([[1, 5], [2, 5], [3, 5]], { goal: 2 }), [held(1), held(2), held(3, 4)], viewOf);
    expect(kinds(fs)).toEqual(['lost-replica@3']);
    expect(fs[0]!.repair).toEqual({ do: 'delete', serverId: 3, version: 4, forget: 5 });
  });

  it('reports a newer copy without repairing it (the server reports have it adopted)', () => {
    const fs = compareChunk(chunk([[1, 5], [2, 5]]), [held(1), held(2, 6)], viewOf);
    expect(kinds(fs)).toEqual(['under-replicated@0', 'unrecorded-replica@2']);
    expect(fs.find((f) => f.kind === 'unrecorded-replica')!.repair).toBeUndefined();
  });

  it('does not judge replicas of servers it could not check, but counts those recorded as present', () => {
    // Server 5 did not answer: its row counts towards the goal, nothing is said about it.
    expect(compareChunk(chunk([[1, 5], [5, 5]]), [held(1)], viewOf)).toEqual([]);
    // Server 9 is dead: its replica is neither judged nor counted.
    expect(kinds(compareChunk(chunk([[1, 5], [9, 5]]), [held(1)], viewOf))).toEqual(['under-replicated@0']);
    const missing = compareChunk(chunk([[9, 5]]), [], viewOf);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ kind: 'missing', serverId: 0 });
    expect(missing[0]!.detail).toContain('1 recorded on servers that are down');
  });

  it('does not count copies on draining servers towards the goal, nor as surplus', () => {
    expect(kinds(compareChunk(chunk([[1, 5], [4, 5]]), [held(1), held(4)], viewOf))).toEqual(['under-replicated@0']);
    expect(compareChunk(chunk([[1, 5], [2, 5], [4, 5]]), [held(1), held(2), held(4)], viewOf)).toEqual([]);
  });

  it('leaves a chunk under a write lease alone', () => {
    expect(compareChunk(chunk([[1, 5], [2, 5]], { leased: true }), [held(3, 9, 1)], viewOf)).toEqual([]);
  });

  it('finds replicas of differing lengths and data past the end of the file, reported only', () => {
    const differ = compareChunk(chunk([[1, 5], [2, 5]]), [held(1, 5, MiB), held(2, 5, 2 * MiB)], viewOf);
    expect(differ).toHaveLength(1);
    expect(differ[0]).toMatchObject({ kind: 'size-mismatch', serverId: 0 });
    expect(differ[0]!.detail).toContain('a:1: 1048576');
    expect(differ[0]!.repair).toBeUndefined();
    const past = compareChunk(chunk([[1, 5], [2, 5]], { fileSize: MiB }), [held(1, 5, 2 * MiB), held(2, 5, 2 * MiB)], viewOf);
    expect(kinds(past)).toEqual(['size-mismatch@1', 'size-mismatch@2']);
    expect(past.every((f) => f.repair === undefined)).toBe(true);
    // Chunk 1 of a file of 64 MiB + 10 bytes may hold 10 bytes.
    expect(compareChunk(chunk([[1, 5], [2, 5]], { idx: 1, fileSize: CHUNK_SIZE + 10 }), [held(1, 5, 10), held(2, 5, 10)], viewOf)).toEqual([]);
  });
});

describe('allowedLength', () => {
  it('is the part of the file that falls in the chunk, at most 64 MiB', () => {
    expect(allowedLength(0, 0)).toBe(0);
    expect(allowedLength(100, 0)).toBe(100);
    expect(allowedLength(3 * CHUNK_SIZE, 1)).toBe(CHUNK_SIZE);
    expect(allowedLength(CHUNK_SIZE + 5, 1)).toBe(5);
    expect(allowedLength(CHUNK_SIZE, 2)).toBe(0);
  });
});

describe('compareUnknown', () => {
  it('finds every checked copy of a chunk no file uses, to be deleted', () => {
    const fs = compareUnknown(10 ** 9, [held(1, 1, 5), held(5, 1, 5), held(2, 1, 5, true)], viewOf, true, false);
    expect(kinds(fs)).toEqual(['orphan@1']);
    expect(fs[0]).toMatchObject({ chunkId: 10 ** 9, version: 1, ino: 0, repair: { do: 'delete', serverId: 1, version: 1, forget: undefined } });
    expect(fs[0]!.detail).toContain('never issued');
    expect(compareUnknown(50, [held(1, 2)], viewOf, false, false)[0]!.detail).toContain('its file was deleted');
  });

  it('leaves chunks of deleted files to garbage collection', () => {
    expect(compareUnknown(50, [held(1)], viewOf, false, true)).toEqual([]);
  });
});

describe('judge', () => {
  it('judges recorded chunks and orphans alike, but not chunks newer than the lists', () => {
    const rows = { recorded: new Map([[7, chunk([[1, 5], [2, 5]])], [300, chunk([[1, 1]], { chunkId: 300 })]]), pendingGc: new Set<number>(), nextChunkId: 301, foreign: new Set<number>() };
    const copies = new Map([[7, [held(1)]], [8, [held(2, 1)]]]);
    const fs = judge([7, 8, 300], rows, copies, viewOf, 200);
    expect(fs.map(findingKey).sort()).toEqual(['lost-replica:7:2', 'orphan:8:2', 'under-replicated:7:0']);
  });
});
