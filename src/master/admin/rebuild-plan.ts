/**
 * What a metadata rebuild makes of the chunks it may adopt (pure, unit-tested): the chunks are
 * grouped into files by the inode their owner records name, one chunk per index (the newest chunk
 * id when several claim one index: the file was cut or rewritten and garbage collection had not
 * deleted the older one yet), each at the highest version any copy holds. Chunks without an owner
 * record, and those a newer chunk displaced, become single-chunk files of their own. Where each file
 * goes is decided by `placeOf`: under the rebuild directory at its last known path.
 */
import { CHUNK_SIZE } from '../../common/ids.js';
import type { ChunkOwner } from '../chunks/chunkserver-commands.js';

/** One copy of a chunk on a live server. */
export interface ListedCopy {
  serverId: number;
  version: number;
  length: number;
}

/** A chunk as the servers listed it, with the owner record of its newest copy that has one. */
export interface ListedChunk {
  chunkId: number;
  owner: ChunkOwner | undefined;
  copies: ListedCopy[];
}

export interface PlannedChunk {
  chunkId: number;
  /** Its index in the file it goes to. */
  idx: number;
  /** The highest version a copy holds: the chunk's version; older copies are stale replicas. */
  version: number;
  /** The length of the longest copy at that version. */
  length: number;
  copies: ListedCopy[];
}

export type FileKind = 'owned' | 'unowned' | 'superseded';

export interface PlannedFile {
  kind: FileKind;
  /** The inode the owner records name (0 for an unowned chunk). */
  oldIno: number;
  /** The path the newest chunk's owner record gives ("" when none). */
  lastKnownPath: string;
  chunks: PlannedChunk[];
  /** Where the last chunk's data ends. */
  size: number;
}

function planned(c: ListedChunk, idx: number): PlannedChunk {
  const version = Math.max(...c.copies.map((x) => x.version));
  const length = Math.max(...c.copies.filter((x) => x.version === version).map((x) => x.length));
  return { chunkId: c.chunkId, idx, version, length, copies: c.copies };
}

function single(kind: FileKind, c: ListedChunk): PlannedFile {
  const chunk = planned(c, 0);
  return { kind, oldIno: c.owner?.ino ?? 0, lastKnownPath: c.owner?.path ?? '', chunks: [chunk], size: chunk.length };
}

/** The files to make of `chunks` (each with at least one copy), in old inode order, loose chunks last. */
export function planFiles(chunks: Iterable<ListedChunk>): PlannedFile[] {
  const byIno = new Map<number, Map<number, ListedChunk>>();
  const loose: PlannedFile[] = [];
  for (const c of chunks) {
    if (c.copies.length === 0) continue;
    if (!c.owner) {
      loose.push(single('unowned', c));
      continue;
    }
    let slots = byIno.get(c.owner.ino);
    if (!slots) byIno.set(c.owner.ino, (slots = new Map()));
    const other = slots.get(c.owner.index);
    // Ids only grow: the higher one was made later, after the older one left the file.
    if (other && other.chunkId > c.chunkId) {
      loose.push(single('superseded', c));
      continue;
    }
    if (other) loose.push(single('superseded', other));
    slots.set(c.owner.index, c);
  }
  const files: PlannedFile[] = [];
  for (const [oldIno, slots] of [...byIno].sort((a, b) => a[0] - b[0])) {
    const members = [...slots.values()].sort((a, b) => a.owner!.index - b.owner!.index);
    const newest = members.reduce((a, b) => (b.chunkId > a.chunkId ? b : a));
    const planned_ = members.map((c) => planned(c, c.owner!.index));
    const size = Math.max(...planned_.map((c) => c.idx * CHUNK_SIZE + c.length));
    files.push({ kind: 'owned', oldIno, lastKnownPath: newest.owner!.path, chunks: planned_, size });
  }
  loose.sort((a, b) => a.chunks[0]!.chunkId - b.chunks[0]!.chunkId);
  return [...files, ...loose];
}

/** Longest name a directory entry may have (NAME_MAX), in UTF-8 bytes. */
const NAME_MAX = 255;

function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('\0') && Buffer.byteLength(name, 'utf8') <= NAME_MAX;
}

/**
 * The names from the rebuild directory down to the file: its last known path (absolute, so every
 * component of it), `unnamed/ino<N>` for a file that had no path (or an unusable one), and
 * `unowned/chunk-<id>` for a loose chunk.
 */
export function placeOf(f: PlannedFile): string[] {
  if (f.kind !== 'owned') return ['unowned', `chunk-${f.chunks[0]!.chunkId}`];
  const names = f.lastKnownPath.split('/').filter((n) => n !== '' && n !== '.');
  if (names.length === 0 || !names.every(validName)) return ['unnamed', `ino${f.oldIno}`];
  return names;
}
