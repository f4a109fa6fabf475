/**
 * `fst-master --data DIR [--meta URL] --restore FILE`: before the master opens its metadata, the
 * backup (backup-format.ts) is checked whole, then its files go into place: the cluster's identity
 * into DIR, the metadata into DIR's SQLite database or, with `--meta`, into the PostgreSQL
 * database. A backup holds the metadata as a SQLite database file (from a master on SQLite) or as
 * a dump (from one on PostgreSQL); either restores into either engine, through the dump
 * (db/dump-format.ts) when they differ. A restore never overwrites a master's state: DIR must hold
 * no database (SQLite) or no identity (PostgreSQL), and the PostgreSQL database no namespace.
 * Files are written beside their final names, fsynced, renamed, then the directory fsynced, the
 * metadata last: a restore cut short leaves a directory that does not count as a master's yet.
 */
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import { checkBackupFile, type BackupEntry } from '../../common/backup/backup-format.js';
import { DB_FILE, DUMP_FILE } from '../db/database.js';
import { dumpDatabase } from '../db/dump.js';
import { loadDumpInto, type MetadataTarget } from './load.js';
import { writeRestoredMarker } from './restore-state.js';

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Copies entry `e` (at byte `at` of `backup`) to `path`, fsynced. */
async function extract(backup: string, at: number, e: BackupEntry, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const out = await open(path, 'w', e.mode & 0o777);
  try {
    if (e.size > 0) {
      for await (const chunk of createReadStream(backup, { start: at, end: at + e.size - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) await out.write(chunk);
    }
    await out.sync();
  } finally {
    await out.close();
  }
}

/** SQLite: DIR holds a database; PostgreSQL: DIR holds one of the backup's identity files. */
function refuseOverwrite(target: MetadataTarget, identity: BackupEntry[]): void {
  if (target.meta === undefined && existsSync(join(target.dataDir, DB_FILE))) {
    throw new FsError('EEXIST', `${target.dataDir} already holds a metadata database: restore into an empty data directory`);
  }
  const held = target.meta === undefined ? undefined : identity.find((e) => existsSync(join(target.dataDir, e.name)));
  if (held) throw new FsError('EEXIST', `${target.dataDir} already holds a cluster identity (${held.name}): restore into an empty data directory`);
}

export async function restoreBackup(target: MetadataTarget, backup: string, log: Logger): Promise<void> {
  const { dataDir } = target;
  if (target.meta === undefined) refuseOverwrite(target, []);
  const { manifest, dataStart } = await checkBackupFile(backup);
  const metadata = manifest.files.find((f) => f.name === DB_FILE || f.name === DUMP_FILE);
  if (!metadata) throw new FsError('EINVAL', `${backup} holds neither ${DB_FILE} nor ${DUMP_FILE}`);
  refuseOverwrite(target, manifest.files.filter((f) => f !== metadata));
  await mkdir(dataDir, { recursive: true, mode: 0o750 });
  let at = dataStart;
  const identity: [string, string][] = [];
  let metadataTemp = '';
  for (const e of manifest.files) {
    const temp = `${join(dataDir, e.name)}.restoring`;
    await extract(backup, at, e, temp);
    if (e === metadata) metadataTemp = temp;
    else identity.push([temp, join(dataDir, e.name)]);
    at += e.size;
  }
  for (const [temp, final] of identity) await rename(temp, final);
  const temps = [metadataTemp];
  try {
    if (target.meta === undefined && metadata.name === DB_FILE) {
      await rename(metadataTemp, join(dataDir, DB_FILE));
    } else {
      // Into the other engine's form, or into PostgreSQL: through a dump.
      let dump = metadataTemp;
      if (metadata.name === DB_FILE) {
        dump = join(dataDir, `${DUMP_FILE}.restoring`);
        temps.push(dump);
        await dumpDatabase(metadataTemp, dump, manifest.created);
      }
      await loadDumpInto(target, dump, log);
    }
  } catch (e) {
    // PostgreSQL's load rolled back whole: take the identity back out so that a retry may run.
    if (target.meta !== undefined) for (const [, final] of identity) await rm(final, { force: true });
    throw e;
  } finally {
    for (const t of temps) await rm(t, { force: true });
  }
  await writeRestoredMarker(dataDir, { backup, created: manifest.created, restoredAt: Date.now() });
  for (const dir of new Set([dataDir, ...identity.map(([, f]) => dirname(f))])) await fsyncDir(dir);
  log.info('metadata restored from a backup', { backup, created: new Date(manifest.created).toISOString(), files: manifest.files.map((f) => f.name), into: target.meta === undefined ? 'sqlite' : 'postgres' });
}
