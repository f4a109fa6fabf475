/**
 * The namespace side of a metadata rebuild, each part one writer-queue body: the rebuild directory
 * and the counters first (`prepareRebuild`), then each file (`writeFile`): directories made down to
 * its place, the file itself (with its old inode number when this metadata never issued that
 * number), its chunk rows pointing at the chunks where they are, their replicas, and the chunk ids
 * taken out of foreign_chunks. No data moves.
 */
import { fst } from '../../proto-gen/fst.js';
import { CHUNK_SIZE, ROOT_INO } from '../../common/ids.js';
import type { Tx } from '../db/sqlite.js';
import { bumpCounter } from '../chunks/chunk-rows.js';
import { createInode } from '../tree/create.js';
import { findChild, getDir } from '../tree/entries.js';
import { nowTimespec, type InodeRow } from '../tree/inode-row.js';
import { placeOf, type PlannedFile } from './rebuild-plan.js';

/** Old inode numbers above this are not kept (a damaged record must not use up the numbers). */
const MAX_KEPT_INO = 2 ** 48;
/** Longest name (NAME_MAX), in UTF-8 bytes. */
const NAME_MAX = 255;

export interface RebuildTarget {
  /** The directory rebuilt into, and its path (a name a file held gets ".dir": see ensureDir). */
  intoIno: number;
  intoPath: string;
  /** Old inode numbers from here on were never issued by this metadata: a file may keep its own. */
  reuseFrom: number;
  /** The seen_gen a replica row of each server gets (ServerRegistry.reportGeneration). */
  generation: (serverId: number) => number;
}

async function counter(tx: Tx, name: string): Promise<number> {
  return (await tx.get<{ value: number }>('SELECT value FROM counters WHERE name = ?', [name]))?.value ?? 0;
}

async function setCounter(tx: Tx, name: string, value: number): Promise<void> {
  await tx.run('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
}

/** `base`, or `base` + suffix (+ ".2", ".3"...) when taken, shortened to fit NAME_MAX. */
async function freeName(tx: Tx, dir: number, base: string, suffix: string, accept?: (row: InodeRow) => boolean): Promise<{ name: string; row?: InodeRow }> {
  for (let n = 0; ; n++) {
    const tail = n === 0 ? '' : n === 1 ? suffix : `${suffix}.${n}`;
    let head = base;
    while (Buffer.byteLength(head + tail, 'utf8') > NAME_MAX) head = head.slice(0, -1);
    const name = head + tail;
    const row = await findChild(tx, dir, name);
    if (!row || accept?.(row)) return { name, row };
  }
}

/** The directory `name` in `parent`, made if absent; a file already holding the name makes it `name.dir`. */
async function ensureDir(tx: Tx, parent: number, name: string, mode = 0o755): Promise<{ ino: number; name: string }> {
  const isDir = (r: InodeRow): boolean => r.type === fst.FileType.DIRECTORY;
  const { name: free, row } = await freeName(tx, parent, name, '.dir', isDir);
  if (row) return { ino: row.ino, name: free };
  const { row: made } = await createInode(tx, await getDir(tx, parent), free, { type: fst.FileType.DIRECTORY, mode }, undefined, nowTimespec());
  return { ino: made.ino, name: free };
}

/**
 * Makes the rebuild directory (mode 0700 when made here, as fsck(8)'s lost+found: the files' owners
 * and modes are lost) and moves the counters past what the files will use: the inode counter past
 * the old numbers they may keep, the chunk id counter (and `adopted_below`, chunks/issued-ids.ts)
 * past the ids they adopt, so that neither is ever issued again even if the rebuild stops half-way.
 */
export async function prepareRebuild(tx: Tx, into: string, files: readonly PlannedFile[]): Promise<Omit<RebuildTarget, 'generation'>> {
  const maxIno = (await tx.get<{ m: number | null }>('SELECT MAX(ino) AS m FROM inodes'))?.m ?? ROOT_INO;
  const reuseFrom = Math.max(await counter(tx, 'next_ino'), maxIno + 1);
  const kept = files.map((f) => f.oldIno).filter((ino) => ino >= reuseFrom && ino <= MAX_KEPT_INO);
  await setCounter(tx, 'next_ino', Math.max(reuseFrom, ...kept.map((ino) => ino + 1)));
  const maxChunk = Math.max(0, ...files.flatMap((f) => f.chunks.map((c) => c.chunkId)));
  await setCounter(tx, 'next_chunk_id', Math.max(await counter(tx, 'next_chunk_id'), maxChunk + 1));
  await setCounter(tx, 'adopted_below', Math.max(await counter(tx, 'adopted_below'), maxChunk + 1));
  const names = into.split('/').filter((n) => n !== '');
  let dir: number = ROOT_INO;
  const made: string[] = [];
  for (const [i, name] of names.entries()) {
    const d = await ensureDir(tx, dir, name, i === names.length - 1 ? 0o700 : 0o755);
    dir = d.ino;
    made.push(d.name);
  }
  return { intoIno: dir, intoPath: '/' + made.join('/'), reuseFrom };
}

/**
 * Makes one planned file, pointing at its chunks; undefined when a file uses all of them already
 * (another rebuild got there first). Chunks a file uses now are left out.
 */
export async function writeFile(tx: Tx, t: RebuildTarget, f: PlannedFile): Promise<fst.IRebuiltFile | undefined> {
  const chunks = [];
  for (const c of f.chunks) if (!(await tx.get('SELECT 1 AS x FROM chunks WHERE chunk_id = ?', [c.chunkId]))) chunks.push(c);
  if (chunks.length === 0) return undefined;
  const place = placeOf(f);
  let dir = t.intoIno;
  const path = [t.intoPath === '/' ? '' : t.intoPath];
  for (const n of place.slice(0, -1)) {
    const d = await ensureDir(tx, dir, n);
    dir = d.ino;
    path.push(d.name);
  }
  const suffix = f.kind === 'owned' ? `.ino${f.oldIno}` : '.again';
  const { name } = await freeName(tx, dir, place[place.length - 1]!, suffix);
  const keep = f.oldIno >= t.reuseFrom && f.oldIno <= MAX_KEPT_INO && !(await tx.get('SELECT 1 AS x FROM inodes WHERE ino = ?', [f.oldIno]));
  const size = Math.max(...chunks.map((c) => c.idx * CHUNK_SIZE + c.length));
  const { row } = await createInode(tx, await getDir(tx, dir), name, { type: fst.FileType.REGULAR, mode: 0o644, size }, undefined, nowTimespec(), keep ? f.oldIno : undefined);
  for (const c of chunks) {
    await tx.run('INSERT INTO chunks (ino, idx, chunk_id, version, version_ceiling) VALUES (?, ?, ?, ?, ?)', [row.ino, c.idx, c.chunkId, c.version, c.version]);
    for (const copy of c.copies) {
      await tx.run('INSERT INTO replicas (chunk_id, server_id, version, seen_gen) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [c.chunkId, copy.serverId, copy.version, t.generation(copy.serverId)]);
    }
    await tx.run('DELETE FROM foreign_chunks WHERE chunk_id = ?', [c.chunkId]);
  }
  await bumpCounter(tx, 'chunks', chunks.length);
  return { path: [...path, name].join('/'), ino: row.ino, oldIno: f.oldIno, lastKnownPath: f.lastKnownPath, size, chunks: chunks.length };
}
