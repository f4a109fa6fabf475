/**
 * `fst-master --data DIR --restore FILE`: before the master opens its database, the backup's files
 * (the database snapshot and the cluster's identity) are checked and written into DIR, which must
 * hold no database yet: a restore never overwrites a master's state. Files are written beside
 * their final names and renamed, each fsynced, then the directory, so a restore cut short leaves
 * either nothing or everything.
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import { checkBackupFile } from '../../common/backup/backup-format.js';
import { writeRestoredMarker } from './restore-state.js';

export const DB_FILE = 'meta.sqlite3';

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function restoreBackup(dataDir: string, backup: string, log: Logger): Promise<void> {
  if (existsSync(join(dataDir, DB_FILE))) {
    throw new FsError('EEXIST', `${dataDir} already holds a metadata database: restore into an empty data directory`);
  }
  const { manifest, dataStart } = await checkBackupFile(backup);
  if (!manifest.files.some((f) => f.name === DB_FILE)) throw new FsError('EINVAL', `${backup} holds no ${DB_FILE}`);
  await mkdir(dataDir, { recursive: true, mode: 0o750 });
  let at = dataStart;
  const written: [string, string][] = [];
  for (const e of manifest.files) {
    const final = join(dataDir, e.name);
    const temp = `${final}.restoring`;
    await mkdir(dirname(final), { recursive: true, mode: 0o700 });
    const out = await open(temp, 'w', e.mode & 0o777);
    try {
      if (e.size > 0) {
        for await (const chunk of createReadStream(backup, { start: at, end: at + e.size - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) await out.write(chunk);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    written.push([temp, final]);
    at += e.size;
  }
  // The database last: until it is in place, the directory does not count as a master's.
  written.sort(([, a], [, b]) => (a.endsWith(DB_FILE) ? 1 : b.endsWith(DB_FILE) ? -1 : 0));
  for (const [temp, final] of written) await rename(temp, final);
  await writeRestoredMarker(dataDir, { backup, created: manifest.created, restoredAt: Date.now() });
  for (const dir of new Set([dataDir, ...written.map(([, f]) => dirname(f))])) await fsyncDir(dir);
  log.info('metadata restored from a backup', { backup, created: new Date(manifest.created).toISOString(), files: manifest.files.map((f) => f.name) });
}
