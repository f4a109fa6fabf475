/**
 * The start-up scan of a data directory: finds every chunk and reads its meta file, to rebuild the
 * in-memory index. Left-over copies (`.tmp`) are removed; files the store did not create are logged
 * and left alone; a data file without a valid meta file is reported as corrupt and skipped.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/log/logger.js';
import { ChunkFile } from './chunk-file.js';
import { CHUNKS_DIR, chunkPaths, parseChunkFileName, subdirName } from './layout.js';

export interface ScannedChunk {
  chunkId: number;
  version: number;
  length: number;
}

/** How many meta files are read at once: enough to keep a disk's queue busy. */
const PARALLEL_OPENS = 32;

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return [];
    throw e;
  }
}

/** Scans one data directory; `found` is called for each valid chunk. */
export async function scanDataDir(dataDir: string, log: Logger, found: (c: ScannedChunk) => void): Promise<void> {
  const root = join(dataDir, CHUNKS_DIR);
  for (const sub of (await listDir(root)).sort()) {
    if (!/^[0-9a-f]{2}$/.test(sub)) {
      log.warn('ignoring unknown entry in chunk directory', { path: join(root, sub) });
      continue;
    }
    const ids = new Map<number, { data: boolean; meta: boolean }>();
    for (const name of await listDir(join(root, sub))) {
      const path = join(root, sub, name);
      const parsed = parseChunkFileName(name);
      if (!parsed || subdirName(parsed.chunkId) !== sub) {
        log.warn('ignoring unknown file in chunk directory', { path });
      } else if (parsed.tmp) {
        log.info('removing unfinished chunk copy', { path });
        await unlink(path).catch((err: unknown) => log.warn('cannot remove unfinished copy', { path, err }));
      } else {
        const e = ids.get(parsed.chunkId) ?? { data: false, meta: false };
        e[parsed.kind] = true;
        ids.set(parsed.chunkId, e);
      }
    }
    const todo = [...ids].filter(([chunkId, e]) => {
      if (!e.data) log.warn('ignoring meta file without data file', { path: chunkPaths(dataDir, chunkId).meta });
      return e.data;
    });
    const worker = async (): Promise<void> => {
      for (let item = todo.pop(); item; item = todo.pop()) {
        const chunkId = item[0];
        try {
          const f = await ChunkFile.open(chunkPaths(dataDir, chunkId), chunkId);
          found({ chunkId, version: f.version, length: f.length });
          await f.close();
        } catch (err) {
          log.error('corrupt chunk skipped', { chunkId, path: chunkPaths(dataDir, chunkId).data, err });
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_OPENS }, worker));
  }
}
