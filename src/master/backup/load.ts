/**
 * Loading a namespace dump (db/dump.ts) into a new data directory: `fst-master --load FILE` before
 * it starts, or `fstadmin metadata load FILE --data DIR` with no master running. The directory must
 * hold no database; one is made (the schema of this fst-master), then replaced by the dump's rows.
 * The dump holds the namespace, not the cluster's identity: copy `<data>/tls` (and
 * admin.credentials) from the old directory, or the master makes a new CA and every credential
 * issued before stops working.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import { MasterDb } from '../db/database.js';
import { loadDump } from '../db/dump.js';
import { DB_FILE } from './restore.js';

export async function loadDumpInto(dataDir: string, file: string, log?: Logger): Promise<number> {
  if (existsSync(join(dataDir, DB_FILE))) throw new FsError('EEXIST', `${dataDir} already holds a metadata database: load into an empty data directory`);
  if (!existsSync(file)) throw new FsError('ENOENT', `no dump file ${file}`);
  const db = await MasterDb.open({ dataDir, defaultReplication: 2 });
  await db.close();
  try {
    const rows = await loadDump(join(dataDir, DB_FILE), file);
    log?.info('metadata loaded from a dump', { file, rows });
    return rows;
  } catch (e) {
    // Nothing half loaded stays behind: the next attempt starts from an empty directory again.
    for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) await rm(join(dataDir, f), { force: true });
    throw e;
  }
}
