/**
 * Opens the master's database: WAL, a busy timeout, the schema applied by version, the root
 * directory created on first start. Exposes the writer queue and the reader connection.
 *
 * Durability (`sync`): with 'normal' (the default) a committed mutation survives a crash or kill
 * of the master process — the WAL is in the OS page cache — but the last ones may be lost if the
 * machine itself loses power; with 'full' every commit is fsynced (its cost shared by group
 * commit), surviving power loss at a few milliseconds per mutation. Either way, a mutation written
 * `durable` (what a client's fsync waits for) is answered only once the log holding it is fsynced.
 */
import { appendFile, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SCHEMA_V1, SCHEMA_V2_FROM_V1, SCHEMA_V3_FROM_V2, SCHEMA_V4_FROM_V3, SCHEMA_V5_FROM_V4, SCHEMA_V6_FROM_V5, SCHEMA_V7_FROM_V6, SCHEMA_V8_FROM_V7, SCHEMA_V9_FROM_V8, SCHEMA_VERSION } from './schema.js';
import { SqliteConnection, type Reader, type Tx } from './sqlite.js';
import { WriteQueue } from './txn.js';

export interface MasterDbOptions {
  dataDir: string;
  /** Replication goal of the root directory on first start. */
  defaultReplication: number;
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

export class MasterDb {
  private constructor(
    private readonly writer: SqliteConnection,
    readonly reader: Reader & Pick<SqliteConnection, 'dataVersion' | 'close'>,
    private readonly queue: WriteQueue,
    readonly path: string,
    private readonly log: FileHandle | undefined,
    /** The database was made by this open (a namespace nobody used before). */
    readonly created: boolean,
    /** The reader's connection, for snapshots (tests give MasterDb other readers). */
    private readonly snapshotSource?: SqliteConnection,
  ) {}

  static async open(opts: MasterDbOptions): Promise<MasterDb> {
    await mkdir(opts.dataDir, { recursive: true });
    const path = join(opts.dataDir, 'meta.sqlite3');
    const writer = await SqliteConnection.open(path, 'write');
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
    const queue = new WriteQueue(writer, syncLog);
    return new MasterDb(writer, reader, queue, path, log, created, reader);
  }

  /** One atomic mutation through the single writer queue; `durable`: answered once on disk. */
  write<T>(body: (tx: Tx) => Promise<T>, opts: { durable?: boolean } = {}): Promise<T> {
    return this.queue.write(body, opts);
  }

  /** A consistent copy of the database at `dest`, from the reader (writes go on meanwhile); its schema version. */
  async snapshot(dest: string): Promise<number> {
    const row = await this.reader.get<{ user_version: number }>('PRAGMA user_version');
    if (!this.snapshotSource) throw new Error('this database cannot take snapshots');
    await this.snapshotSource.backup(dest);
    return row?.user_version ?? 0;
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.reader.close();
    await this.writer.exec('PRAGMA wal_checkpoint(TRUNCATE);').catch(() => undefined);
    await this.log?.close();
    await this.writer.close();
  }
}

/**
 * For crash tests only (test/ops/metadata-durability.test.ts): with this variable naming a file,
 * the master never checkpoints (so its database file stays as it was opened) and appends the
 * write-ahead log's length to that file after each sync of it: the log up to that length is what
 * had surely reached the disk, which the test restores to simulate a power cut of the machine.
 */
export const CRASH_TEST_ENV = 'FST_CRASH_TEST_SYNC_LOG';

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
    const now = Date.now();
    const s = Math.floor(now / 1000);
    const ns = (now % 1000) * 1_000_000;
    await db.exec('BEGIN IMMEDIATE;' + SCHEMA_V1);
    await db.run(
      `INSERT INTO inodes (ino, type, mode, uid, gid, nlink, size, atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, replication, parent)
       VALUES (1, 2, 493, 0, 0, 2, 0, ?, ?, ?, ?, ?, ?, ?, 1)`,
      [s, ns, s, ns, s, ns, defaultReplication],
    );
    await db.exec(`INSERT INTO counters (name, value) VALUES ('next_chunk_id', 1), ('next_ino', 2), ('files', 0), ('directories', 1), ('chunks', 0);
      PRAGMA user_version = ${SCHEMA_VERSION}; COMMIT;`);
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
