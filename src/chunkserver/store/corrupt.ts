/**
 * Corrupt replicas. A copy of a chunk is corrupt when its bytes fail their block checksum, or its
 * meta file cannot be read (no valid slot, another chunk's record) or one of its files is missing.
 * Such a copy can never serve again, unlike one that met an ordinary I/O error (EMFILE, a disk
 * timing out...), which may work on the next try. ChunkCorruptError marks the first kind, from
 * where it is found (chunk-file.ts, meta-file.ts) to the store, which quarantines the copy: its
 * files are renamed with a `.corrupt` suffix (kept for inspection, ignored by the scan) and the
 * chunk leaves the index, so the master hears of it and copies a healthy replica here or elsewhere.
 */
import { rename } from 'node:fs/promises';
import { FsError } from '../../common/errors/errno.js';
import { fsyncDir, type ChunkPaths } from './layout.js';

export const CORRUPT_SUFFIX = '.corrupt';

export type CorruptionKind =
  /** A block's bytes do not match its stored CRC32C. */
  | 'checksum'
  /** The meta file has no valid record, or one of another chunk. */
  | 'meta'
  /** The data or meta file is gone. */
  | 'missing';

/** A copy of a chunk that can never be served again: EIO to the caller, quarantine in the store. */
export class ChunkCorruptError extends FsError {
  constructor(
    readonly chunkId: number,
    readonly kind: CorruptionKind,
    message: string,
    /** With kind 'checksum': the block that failed. */
    readonly block?: number,
    options?: { cause?: unknown },
  ) {
    super('EIO', message, options);
  }
}

/**
 * Renames a chunk's files aside (`<name>.corrupt`, replacing an older quarantined copy of the same
 * chunk). A file already gone is skipped. Data goes first: a crash in between leaves a meta file
 * alone, which the scan ignores.
 */
export async function moveAside(paths: ChunkPaths): Promise<void> {
  for (const p of [paths.data, paths.meta]) {
    await rename(p, p + CORRUPT_SUFFIX).catch((e: unknown) => {
      if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
    });
  }
  await fsyncDir(paths.subdir);
}
