/**
 * Where a chunk's files live inside a data directory, and the small file-system helpers the store
 * needs. Chunks are spread over 256 subdirectories (chunk id % 256) so that no directory holds
 * millions of entries: <data>/chunks/<xx>/<id>.chunk (data) and <id>.meta (header + checksums).
 * Copies in progress use the same names with a `.tmp` suffix and are removed by the next scan;
 * quarantined copies have a `.corrupt` suffix and are left alone.
 */
import { mkdir, open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { FsError } from '../../common/errors/errno.js';
import { dirname, join } from 'node:path';

export const CHUNKS_DIR = 'chunks';
export const SUBDIRS = 256;

export interface ChunkPaths {
  subdir: string;
  data: string;
  meta: string;
}

export function subdirName(chunkId: number): string {
  return (chunkId % SUBDIRS).toString(16).padStart(2, '0');
}

export function chunkPaths(dataDir: string, chunkId: number, tmp = false): ChunkPaths {
  const subdir = join(dataDir, CHUNKS_DIR, subdirName(chunkId));
  const suffix = tmp ? '.tmp' : '';
  return { subdir, data: join(subdir, `${chunkId}.chunk${suffix}`), meta: join(subdir, `${chunkId}.meta${suffix}`) };
}

export interface ParsedName {
  chunkId: number;
  kind: 'data' | 'meta';
  /** A copy in progress (`.tmp`). */
  tmp: boolean;
  /** A quarantined copy (`.corrupt`, see corrupt.ts): kept for inspection, never a chunk. */
  corrupt: boolean;
}

/** The chunk a file name belongs to, or undefined for a file the store did not create. */
export function parseChunkFileName(name: string): ParsedName | undefined {
  const m = /^([1-9][0-9]{0,15})\.(chunk|meta)(\.tmp|\.corrupt)?$/.exec(name);
  const chunkId = Number(m?.[1]);
  if (!m || !Number.isSafeInteger(chunkId)) return undefined;
  return { chunkId, kind: m[2] === 'chunk' ? 'data' : 'meta', tmp: m[3] === '.tmp', corrupt: m[3] === '.corrupt' };
}

/** fsync a directory, so that entries created or removed in it survive a crash. */
export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Removes a chunk's files (those already gone are skipped) and makes the removal durable. */
export async function removeChunkFiles(paths: ChunkPaths): Promise<void> {
  // Data first: a meta file left alone by a crash is ignored by the scan.
  for (const p of [paths.data, paths.meta]) {
    await unlink(p).catch((e: unknown) => {
      if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
    });
  }
  await fsyncDir(paths.subdir);
}

/**
 * mkdir -p, fsync'ing the parent of each directory it creates. Written out rather than
 * mkdir({recursive: true}), which loops forever where a parent exists but refuses children (/proc).
 */
/** Directories made or seen by ensureDir: chunk directories are never removed while we run. */
const knownDirs = new Set<string>();

export async function ensureDir(path: string): Promise<void> {
  if (knownDirs.has(path)) return;
  await makeDir(path);
  knownDirs.add(path);
}

async function makeDir(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EEXIST') {
      if (!(await stat(path)).isDirectory()) throw new FsError('ENOTDIR', `${path} exists and is not a directory`);
      return;
    }
    if (code !== 'ENOENT' || dirname(path) === path) throw e;
    await ensureDir(dirname(path));
    try {
      await mkdir(path);
    } catch (again) {
      if ((again as { code?: unknown }).code !== 'EEXIST') throw again;
      return;
    }
  }
  await fsyncDir(dirname(path));
}

/** Writes all of `buf` at `position` (a positional write may be short). */
export async function writeAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** Reads into `buf` from `position` until it is full or the file ends; returns the bytes read. */
export async function readAll(fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
