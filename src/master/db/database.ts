/**
 * The master's metadata database, on an engine (engine.ts): SQLite in the data directory (the
 * default, sqlite-engine.ts) or PostgreSQL (`meta`: a postgres:// URL, pg-working-copy.ts). Exposes
 * the single writer queue (txn.ts) and the reader; the schema and the root directory are the
 * engine's business at open.
 *
 * A mutation is answered once its commit holds: SQLite's at COMMIT, and a `durable` one (what a
 * client's fsync waits for) once SQLite's write-ahead log is synced after it (sqlite-engine.ts);
 * PostgreSQL's once the rows it changed are committed in PostgreSQL, a durable one with the
 * server's own synchronous_commit (pg-write-behind.ts).
 */
import { rm } from 'node:fs/promises';
import { dumpDatabase } from './dump.js';
import type { Logger } from '../../common/log/logger.js';
import type { EngineReader, MetaEngine, Tx } from './engine.js';
import { SqliteEngine } from './sqlite-engine.js';
import { WriteQueue } from './txn.js';

/** The metadata's name in a backup file (backup-format.ts) of a master on SQLite, and on PostgreSQL. */
export const DB_FILE = 'meta.sqlite3';
export const DUMP_FILE = 'meta.jsonl';

export { CRASH_TEST_ENV } from './sqlite-engine.js';

export interface MasterDbOptions {
  dataDir: string;
  /** Replication goal of the root directory on first start. */
  defaultReplication: number;
  /** SQLite: 'full': fsync every commit (survives power loss); 'normal': survives process crashes. @default 'normal' */
  sync?: 'normal' | 'full';
  /** A postgres:// URL: the metadata lives in that PostgreSQL database instead of `dataDir`. */
  meta?: string;
  /** Where the engine tells what the master's log should show (PostgreSQL: a write-behind that failed). */
  log?: Logger;
}

export class MasterDb {
  private constructor(
    readonly engine: MetaEngine,
    readonly reader: EngineReader,
    private readonly queue: WriteQueue,
  ) {}

  static async open(opts: MasterDbOptions): Promise<MasterDb> {
    const engine = opts.meta
      ? await (await import('./pg-working-copy.js')).PgWorkingCopyEngine.open({ url: opts.meta, dataDir: opts.dataDir, defaultReplication: opts.defaultReplication, log: opts.log })
      : await SqliteEngine.open(opts);
    return MasterDb.on(engine);
  }

  /** A MasterDb on an engine already open (tests). */
  static on(engine: MetaEngine): MasterDb {
    const syncLog = engine.syncLog;
    const afterCommit = engine.persist
      ? (durable: boolean) => engine.persist!(durable)
      : syncLog && ((durable: boolean) => (durable ? syncLog() : undefined));
    return new MasterDb(engine, engine.reader, new WriteQueue(engine.writer, afterCommit, () => engine.committed(), engine.persist !== undefined));
  }

  /** The database was made by this open (a namespace nobody used before). */
  get created(): boolean {
    return this.engine.created;
  }

  /** Where the metadata lives (a file, or a URL without its password). */
  get location(): string {
    return this.engine.location;
  }

  /** One atomic mutation through the single writer queue; `durable`: answered once on disk. */
  write<T>(body: (tx: Tx) => Promise<T>, opts: { durable?: boolean } = {}): Promise<T> {
    return this.queue.write(body, opts);
  }

  /**
   * What a metadata backup holds the metadata as: the SQLite database file, or PostgreSQL's dump
   * (a backup restores into either engine: backup/restore.ts).
   */
  get snapshotEntry(): typeof DB_FILE | typeof DUMP_FILE {
    return this.engine.kind === 'sqlite' ? DB_FILE : DUMP_FILE;
  }

  /**
   * A consistent copy of the metadata at `dest` as `snapshotEntry` says, taken while writes go on;
   * its schema version.
   */
  async snapshot(dest: string): Promise<number> {
    const version = await this.engine.schemaVersion();
    await this.engine.snapshot(dest);
    return version;
  }

  /** A JSON-lines dump of the metadata (dump-format.ts) at `dest`, taken while writes go on. */
  async dump(dest: string, created: number): Promise<void> {
    if (this.snapshotEntry === DUMP_FILE) {
      await this.engine.snapshot(dest);
      return;
    }
    const snapshot = `${dest}.sqlite3`;
    try {
      await this.engine.snapshot(snapshot);
      await dumpDatabase(snapshot, dest, created);
    } finally {
      await rm(snapshot, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.engine.close();
  }
}
