/**
 * The start-up scan of a data directory: finds every chunk and reads its meta file, to rebuild the
 * in-memory index. Left-over copies (`.tmp`) are removed; quarantined copies (`.corrupt`) are
 * counted and left alone; files the store did not create are logged and left alone; a data file
 * without a valid meta file is corrupt: it is moved aside (quarantined) and skipped, so the full
 * report leaves it out. A chunk that cannot be opened for another reason (EMFILE, EACCES, a disk
 * error) is skipped but left in place: it may open at the next start.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/log/logger.js';
import { ChunkFile } from './chunk-file.js';
import type { ChunkIndex } from './chunk-index.js';
import { ChunkCorruptError, moveAside } from './corrupt.js';
import type { DataDisks } from './disk-space.js';
import { CHUNKS_DIR, chunkPaths, ensureDir, parseChunkFileName, subdirName } from './layout.js';

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
    let quarantined = 0;
    for (const name of await listDir(join(root, sub))) {
      const path = join(root, sub, name);
      const parsed = parseChunkFileName(name);
      if (!parsed || subdirName(parsed.chunkId) !== sub) {
        log.warn('ignoring unknown file in chunk directory', { path });
      } else if (parsed.corrupt) {
        quarantined++;
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
          const paths = chunkPaths(dataDir, chunkId);
          if (!(err instanceof ChunkCorruptError)) {
            log.error('chunk cannot be opened: skipped', { chunkId, path: paths.data, err });
            continue;
          }
          log.error('corrupt chunk quarantined', { chunkId, path: paths.data, err });
          await moveAside(paths).catch((e: unknown) => log.error('cannot move corrupt chunk aside', { chunkId, path: paths.data, err: e }));
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_OPENS }, worker));
    if (quarantined > 0) log.info('quarantined chunk files kept for inspection', { dir: join(root, sub), files: quarantined });
  }
}

/** Creates missing data directories and scans them all into `index` (quietly: no listeners yet). */
export async function scanDisks(disks: DataDisks, index: ChunkIndex, log: Logger): Promise<void> {
  // Disks are scanned in parallel; `found` runs synchronously, so the index needs no lock.
  await Promise.all(disks.all.map(async (disk) => {
    await ensureDir(disk.path);
    await scanDataDir(disk.path, log, (c) => {
      const other = index.get(c.chunkId);
      if (other) {
        // Two copies come from files moved by hand or a crash while a copy replaced one on
        // another disk: the newer version wins.
        log.warn('chunk found in two data directories', { chunkId: c.chunkId, dirs: [disks.get(other.disk).path, disk.path] });
        if (other.version >= c.version) return;
      }
      index.set(c.chunkId, { disk: disk.index, version: c.version, length: c.length }, { notify: false });
    });
  }));
  log.info('chunks scanned', { chunks: index.count, bytes: index.usedBytes });
}
