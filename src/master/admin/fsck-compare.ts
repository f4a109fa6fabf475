/**
 * fsck's judgement (pure, unit-tested): the metadata's rows for a chunk against what the live
 * chunkservers said they hold, as problems of the kinds admin.proto's FsckProblem lists, each with
 * the repair that fits it, or none (and why, in its detail).
 *
 * Only servers that listed their chunks ("checked") are judged replica by replica. A replica on a
 * live server that did not answer ("unreachable") still counts as present, as the master records
 * it: fsck cannot see it, and must not set off copies for it. Replicas on dead servers count for
 * nothing (re-replication's grace period for them is its own business). Chunks under an unexpired
 * write lease are not judged at all: the write path moves their versions and adds their replicas.
 */
import { CHUNK_SIZE } from '../../common/ids.js';
import type { ChunkState } from '../chunks/replication-plan.js';

export type FsckKind =
  | 'missing' | 'under-replicated' | 'over-replicated' | 'lost-replica' | 'unrecorded-replica'
  | 'stale-replica' | 'orphan' | 'size-mismatch';

/** A chunk as the metadata records it (the shared row reader's ChunkState; goal 0: inode gone). */
export type RecordedChunk = ChunkState;

/** A copy a checked server listed. */
export interface Holding {
  serverId: number;
  version: number;
  length: number;
  /** The server found its data or meta file gone: not a copy any more. */
  filesMissing: boolean;
}

export interface ServerView {
  /** Listed its chunks; alive but did not answer; not alive (or unknown). */
  state: 'checked' | 'unreachable' | 'dead';
  /** Being decommissioned: its copies do not count towards goals. */
  draining: boolean;
  address: string;
}

/** What --repair does about a problem (absent: nothing, the detail says why). */
export type RepairAction =
  /** Forget the replica row at `version` (none when undefined: the server already dropped it). */
  | { do: 'forget'; serverId: number; version: number | undefined }
  /** Record the copy held at the chunk's version. */
  | { do: 'record'; serverId: number; version: number }
  /** Delete the copy at `version` on its server (version-guarded), then forget its row at `forget`. */
  | { do: 'delete'; serverId: number; version: number; forget: number | undefined }
  /** Delete surplus replicas (trim.ts). */
  | { do: 'trim' }
  /** Have re-replication copy the chunk. */
  | { do: 'copy' };

export interface Finding {
  kind: FsckKind;
  chunkId: number;
  /** The chunk's version (orphans: the version held). */
  version: number;
  /** 0 when the problem is the chunk's, not one replica's. */
  serverId: number;
  /** 0 for orphans. */
  ino: number;
  idx: number;
  detail: string;
  repair?: RepairAction;
  /** Seen by the server itself (its files are gone): needs no second look. */
  certain?: boolean;
}

/** One key per problem, to match the same problem across two looks. */
export function findingKey(f: Pick<Finding, 'kind' | 'chunkId' | 'serverId'>): string {
  return `${f.kind}:${f.chunkId}:${f.serverId}`;
}

/** The most bytes chunk `idx` of a file of `fileSize` bytes may hold. */
export function allowedLength(fileSize: number, idx: number): number {
  return Math.max(0, Math.min(CHUNK_SIZE, fileSize - idx * CHUNK_SIZE));
}

type ViewOf = (serverId: number) => ServerView;

/** Problems of one chunk of a live file; `held`: its copies on checked servers. */
export function compareChunk(c: RecordedChunk, held: readonly Holding[], viewOf: ViewOf): Finding[] {
  if (c.leased) return [];
  const out: Finding[] = [];
  const at = (kind: FsckKind, serverId: number, detail: string, repair?: RepairAction, certain?: boolean): void => {
    out.push({ kind, chunkId: c.chunkId, version: c.version, serverId, ino: c.ino, idx: c.idx, detail, repair, certain });
  };
  const rows = new Map(c.replicas.map((r) => [r.serverId, r.version]));
  const heldBy = new Map(held.filter((h) => viewOf(h.serverId).state === 'checked').map((h) => [h.serverId, h]));
  const current = [...heldBy.values()].filter((h) => !h.filesMissing && h.version === c.version);
  const liveCurrent = current.length > 0;

  for (const serverId of new Set([...rows.keys(), ...heldBy.keys()])) {
    if (viewOf(serverId).state !== 'checked') continue;
    const recorded = rows.get(serverId);
    const h = heldBy.get(serverId);
    const rec = recorded === undefined ? 'not recorded' : `recorded at v${recorded}`;
    if (h?.filesMissing) {
      at('lost-replica', serverId, `its files are gone from the server's disk (v${h.version}, ${rec})`, { do: 'forget', serverId, version: recorded }, true);
    } else if (!h) {
      if (recorded !== undefined) at('lost-replica', serverId, `${rec}; the server does not hold it`, { do: 'forget', serverId, version: recorded });
    } else if (h.version === c.version) {
      if (recorded !== c.version) at('unrecorded-replica', serverId, `held at the current version, ${rec}`, { do: 'record', serverId, version: c.version });
    } else if (h.version > c.version) {
      at('unrecorded-replica', serverId, `held at v${h.version}, newer than the chunk's v${c.version} (${rec}): not repaired here, the server's next full report has it adopted`);
    } else {
      // An older copy: deleted only while a current one is live elsewhere, never the last copy.
      const kind = recorded === c.version ? 'lost-replica' : 'stale-replica';
      const what = `held at v${h.version}, older than the chunk's v${c.version} (${rec})`;
      if (liveCurrent) at(kind, serverId, what, { do: 'delete', serverId, version: h.version, forget: recorded });
      else if (recorded === c.version) at(kind, serverId, `${what}; the copy is kept: no live replica at the current version`, { do: 'forget', serverId, version: recorded });
      else at(kind, serverId, `${what}; kept: no live replica at the current version, this may be the last copy of its data`);
    }
  }

  countReplicas(c, rows, current, viewOf, at);
  checkSizes(c, current, viewOf, at);
  return out;
}

type At = (kind: FsckKind, serverId: number, detail: string, repair?: RepairAction) => void;

/** missing / under-replicated / over-replicated, from the copies confirmed and those unseen. */
function countReplicas(c: RecordedChunk, rows: Map<number, number>, current: Holding[], viewOf: ViewOf, at: At): void {
  const live = current.map((h) => h.serverId);
  for (const [serverId, version] of rows) {
    if (version === c.version && viewOf(serverId).state === 'unreachable') live.push(serverId);
  }
  const draining = live.filter((id) => viewOf(id).draining).length;
  const inService = live.length - draining;
  if (live.length === 0) {
    const onDead = [...rows].filter(([id, v]) => v === c.version && viewOf(id).state === 'dead').length;
    at('missing', 0, `no live replica at v${c.version}` + (onDead > 0 ? `; ${onDead} recorded on servers that are down` : '; data lost unless a server that held it comes back'));
    return;
  }
  if (c.goal <= 0) return;
  const extra = draining > 0 ? ` (and ${draining} on draining servers)` : '';
  if (inService < c.goal) at('under-replicated', 0, `${inService} of ${c.goal} live replicas in service${extra}`, { do: 'copy' });
  else if (inService > c.goal) at('over-replicated', 0, `${inService} live replicas in service, goal ${c.goal}${extra}`, { do: 'trim' });
}

/** Current copies of differing lengths, or holding more than the file's size allows. */
function checkSizes(c: RecordedChunk, current: Holding[], viewOf: ViewOf, at: At): void {
  const allowed = allowedLength(c.fileSize, c.idx);
  for (const h of current) {
    if (h.length > allowed) {
      at('size-mismatch', h.serverId, `holds ${h.length} bytes; the file's size (${c.fileSize}) allows ${allowed} in chunk ${c.idx}: ` +
        'reported only (cutting it would move the chunk version)');
    }
  }
  if (new Set(current.map((h) => h.length)).size > 1) {
    const lengths = current.map((h) => `${viewOf(h.serverId).address || h.serverId}: ${h.length}`).join(', ');
    at('size-mismatch', 0, `replicas at v${c.version} differ in length (${lengths}): reported only`);
  }
}

/**
 * Problems of a chunk that no file uses (no chunk row): each checked server's copy is an orphan.
 * A chunk of a deleted file still waiting for garbage collection (`pendingGc`) is none.
 */
export function compareUnknown(chunkId: number, held: readonly Holding[], viewOf: ViewOf, neverIssued: boolean, pendingGc: boolean): Finding[] {
  if (pendingGc) return [];
  const why = neverIssued
    ? 'no file uses it; this metadata never issued its id (restored from an older backup?)'
    : 'no file uses it (its file was deleted)';
  return held
    .filter((h) => viewOf(h.serverId).state === 'checked' && !h.filesMissing)
    .map((h) => ({
      kind: 'orphan', chunkId, version: h.version, serverId: h.serverId, ino: 0, idx: 0,
      detail: `held at v${h.version}, ${h.length} bytes; ${why}`, repair: { do: 'delete', serverId: h.serverId, version: h.version, forget: undefined },
    }));
}

/** What the metadata says about a set of chunk ids, read at one moment. */
export interface RowsOf {
  /** Chunks with a chunk row (a live file uses them). */
  recorded: Map<number, RecordedChunk>;
  /** Chunks of deleted files that garbage collection still deletes. */
  pendingGc: Set<number>;
  /** The next chunk id this metadata will issue. */
  nextChunkId: number;
  /** Ids servers reported that this metadata never issued (foreign_chunks; below nextChunkId now). */
  foreign: Set<number>;
}

/**
 * Problems of chunks `ids`, whether a file uses them or not. Chunks from `newFrom` on were created
 * after the servers were asked: their lists may predate them, so they are not judged.
 */
export function judge(ids: Iterable<number>, rows: RowsOf, held: ReadonlyMap<number, readonly Holding[]>, viewOf: ViewOf, newFrom: number): Finding[] {
  const out: Finding[] = [];
  for (const id of ids) {
    const copies = held.get(id) ?? [];
    const c = rows.recorded.get(id);
    if (c) {
      if (id < newFrom) out.push(...compareChunk(c, copies, viewOf));
    } else {
      out.push(...compareUnknown(id, copies, viewOf, rows.foreign.has(id) || id >= rows.nextChunkId, rows.pendingGc.has(id)));
    }
  }
  return out;
}
