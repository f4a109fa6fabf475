/**
 * Whether a chunk's files are still on disk. The index is built once, at start; a copy whose files
 * were removed behind the server's back (an operator's rm, a disk replaced under a mounted path)
 * stays in it until something opens the chunk, and an open descriptor may keep serving the old
 * bytes meanwhile. fsck (ListChunks with verify_files) asks this instead, for every chunk.
 */
import { stat } from 'node:fs/promises';
import type { ChunkPaths } from './layout.js';

/**
 * Which of the chunk's files is gone ('data' first), or undefined when both are there. Only
 * absence counts: any other failure (EACCES, EIO) is thrown, since it says nothing about the copy.
 */
export async function missingFile(paths: ChunkPaths): Promise<'data' | 'meta' | undefined> {
  for (const [which, path] of [['data', paths.data], ['meta', paths.meta]] as const) {
    try {
      if (!(await stat(path)).isFile()) return which;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return which;
      throw e;
    }
  }
  return undefined;
}
