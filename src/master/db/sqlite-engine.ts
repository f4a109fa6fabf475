/**
 * The SQLite engine (the default): `meta.sqlite3` in the data directory, WAL, a busy timeout, the
 * schema applied by version (PRAGMA user_version), the root directory created on first start. Two
 * connections: the writer (the writer queue's) and a read-only reader (WAL gives it a committed
 * snapshot per statement).
 *
 * Durability (`sync`): with 'normal' (the default) a committed mutation survives a crash or kill
 * of the master process — the WAL is in the OS page cache — but the last ones may be lost if the
 * machine itself loses power; with 'full' every commit is fsynced (its cost shared by group
 * commit), surviving power loss at a few milliseconds per mutation. Either way, a mutation written
 * `durable` (what a client's fsync waits for) is answered only once the log holding it is fsynced
 * (`syncLog`).
 */
import { appendFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { initialRows, type EngineOpenOptions, type EngineReader, type EngineWriter, type MetaEngine, type SqlParams } from './engine.js';
import { SCHEMA_V1, SCHEMA_V2_FROM_V1, SCHEMA_V3_FROM_V2, SCHEMA_V4_FROM_V3, SCHEMA_V5_FROM_V4, SCHEMA_V6_FROM_V5, SCHEMA_V7_FROM_V6, SCHEMA_V8_FROM_V7, SCHEMA_V9_FROM_V8, SCHEMA_VERSION } from './schema.js';
import { SqliteConnection } from './sqlite.js';

export interface SqliteEngineOptions extends EngineOpenOptions {
  dataDir: string;
  /** 'full': fsync every commit (survives power loss); 'normal': survives process crashes. @default 'normal' */
  sync?: 'normal' | 'full';
}

/**
 * The reader maps the database file (up to this much) instead of reading pages into a private
 * cache of 2 MiB: lookups of a large namespace then cost no system call per page, and pages in use
 * are shared with the kernel's page cache instead of held twice. Pages that recent commits changed
 * are read from the write-ahead log until a checkpoint.
 */
const READER_MMAP_BYTES = 256 * 1024 * 1024;
const BUSY_RETRIES = 50;

/**
 * For crash tests only (test/ops/metadata-durability.test.ts): with this variable naming a file,
 * the master never checkpoints (so its database file stays as it was opened) and appends the
 * write-ahead log's length to that file after each sync of it: the log up to that length is what
 * had surely reached the disk, which the test restores to simulate a power cut of the machine.
 */
export const CRASH_TEST_ENV = 'FST_CRASH_TEST_SYNC_LOG';

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** The writer connection with the queue's transaction statements. */
class SqliteWriter extends SqliteConnection implements EngineWriter {
  async begin(): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.run('BEGIN IMMEDIATE');
        return;
      } catch (e) {
        if (!isBusy(e) || i >= BUSY_RETRIES) throw e;
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
      }
    }
  }
  async commit(): Promise<void> { await this.run('COMMIT'); }
  async rollback(): Promise<void> { await this.run('ROLLBACK'); }
  /** Runs at once (better-sqlite3 is synchronous): a failure throws here, into the body. */
  runLater(sql: string, params: SqlParams = []): void { this.runSync(sql, params); }
  async savepoint(): Promise<void> { await this.run('SAVEPOINT m'); }
  async release(): Promise<void> { await this.run('RELEASE m'); }
  async rollbackToSavepoint(): Promise<void> { await this.run('ROLLBACK TO m'); }
}

export class SqliteEngine implements MetaEngine {
  readonly kind = 'sqlite';

  private constructor(
    readonly writer: SqliteWriter,
    readonly reader: SqliteConnection & EngineReader,
    readonly location: string,
    readonly created: boolean,
    private readonly log: FileHandle | undefined,
    readonly syncLog: (() => Promise<void>) | undefined,
  ) {}

  static async open(opts: SqliteEngineOptions): Promise<SqliteEngine> {
    await mkdir(opts.dataDir, { recursive: true });
    const path = join(opts.dataDir, 'meta.sqlite3');
    const writer = await SqliteWriter.openAs(SqliteWriter, path, 'write');
    const sync = opts.sync === 'full' ? 'FULL' : 'NORMAL';
    await writer.exec(`PRAGMA journal_mode=WAL; PRAGMA synchronous=${sync}; PRAGMA busy_timeout=5000; PRAGMA foreign_keys=OFF;`);
    const created = await migrate(writer, opts.defaultReplication);
    const reader = await SqliteConnection.open(path, 'read');
    await reader.exec(`PRAGMA busy_timeout=5000; PRAGMA mmap_size=${READER_MMAP_BYTES};`);
    // The write-ahead log stays while connections are open (a checkpoint rewinds it, never removes
    // it): syncing this handle makes every commit so far durable, in the thread pool.
    const log = sync === 'FULL' ? undefined : await open(`${path}-wal`, 'r');
    const crashLog = process.env[CRASH_TEST_ENV];
    if (crashLog) await writer.exec('PRAGMA wal_autocheckpoint=0;');
    const syncLog = log && (crashLog ? syncNoting(log, crashLog) : () => log.datasync());
    return new SqliteEngine(writer, reader, path, created, log, syncLog);
  }

  committed(): void {
    // The reader's PRAGMA data_version moves by itself.
  }

  async schemaVersion(): Promise<number> {
    return (await this.reader.get<{ user_version: number }>('PRAGMA user_version'))?.user_version ?? 0;
  }

  snapshot(dest: string): Promise<void> {
    return this.reader.backup(dest);
  }

  async close(): Promise<void> {
    await this.reader.close();
    await this.writer.exec('PRAGMA wal_checkpoint(TRUNCATE);').catch(() => undefined);
    await this.log?.close();
    await this.writer.close();
  }
}

function syncNoting(log: FileHandle, notes: string): () => Promise<void> {
  return async () => {
    const { size } = await log.stat();
    await log.datasync();
    await appendFile(notes, `${size}\n`);
  };
}

/** Brings the schema up to date; true when it made a new database. */
async function migrate(db: SqliteConnection, defaultReplication: number): Promise<boolean> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  const version = row?.user_version ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this fst-master (${SCHEMA_VERSION})`);
  }
  if (version === 0) {
    await db.exec('BEGIN IMMEDIATE;' + SCHEMA_V1);
    for (const { sql, params } of initialRows(defaultReplication, Date.now())) await db.run(sql, params);
    await db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
    return true;
  }
  // One step per version, each in its own transaction, so that an old database climbs them all.
  if (version <= 1) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V2_FROM_V1} PRAGMA user_version = 2; COMMIT;`);
  if (version <= 2) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V3_FROM_V2} PRAGMA user_version = 3; COMMIT;`);
  if (version <= 3) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V4_FROM_V3} PRAGMA user_version = 4; COMMIT;`);
  if (version <= 4) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V5_FROM_V4} PRAGMA user_version = 5; COMMIT;`);
  if (version <= 5) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V6_FROM_V5} PRAGMA user_version = 6; COMMIT;`);
  if (version <= 6) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V7_FROM_V6} PRAGMA user_version = 7; COMMIT;`);
  if (version <= 7) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V8_FROM_V7} PRAGMA user_version = 8; COMMIT;`);
  if (version <= 8) await db.exec(`BEGIN IMMEDIATE; ${SCHEMA_V9_FROM_V8} PRAGMA user_version = 9; COMMIT;`);
  return false;
}
