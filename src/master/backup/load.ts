/**
 * Loading a namespace dump (db/dump-format.ts) into new metadata: `fst-master --load FILE` before
 * it starts, or `fstadmin metadata load FILE --data DIR [--meta URL]` with no master running. The
 * target holds no namespace yet: a data directory without a database (one is made, the schema of
 * this fst-master, then replaced by the dump's rows), or with `meta`, a PostgreSQL database that is
 * empty or holds only a namespace nobody used. Either way one transaction: all or nothing.
 * The dump holds the namespace, not the cluster's identity: copy `<data>/tls` (and
 * admin.credentials) from the old directory, or the master makes a new CA and every credential
 * issued before stops working.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import { DB_FILE, MasterDb } from '../db/database.js';
import { loadDump } from '../db/dump.js';
import { loadIntoPostgres } from '../db/postgres-dump.js';

/** Where new metadata goes: SQLite in `dataDir`, or the PostgreSQL database `meta`. */
export interface MetadataTarget {
  dataDir: string;
  meta?: string;
}

export async function loadDumpInto(target: MetadataTarget, file: string, log?: Logger): Promise<number> {
  const { dataDir, meta } = target;
  if (meta === undefined && existsSync(join(dataDir, DB_FILE))) {
    throw new FsError('EEXIST', `${dataDir} already holds a metadata database: load into an empty data directory`);
  }
  if (!existsSync(file)) throw new FsError('ENOENT', `no dump file ${file}`);
  // Makes the schema (and an unused root) where there is none yet.
  const db = await MasterDb.open({ dataDir, defaultReplication: 2, meta });
  await db.close();
  try {
    const rows = meta === undefined ? await loadDump(join(dataDir, DB_FILE), file) : await loadIntoPostgres(meta, file);
    log?.info('metadata loaded from a dump', { file, rows, into: db.location });
    return rows;
  } catch (e) {
    // Nothing half loaded stays behind: the next attempt starts from an empty directory again
    // (PostgreSQL's load rolled back whole).
    if (meta === undefined) for (const f of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`]) await rm(join(dataDir, f), { force: true });
    throw e;
  }
}
