/**
 * The master's metadata database, on an engine (engine.ts): SQLite in the data directory (the
 * default, sqlite-engine.ts) or PostgreSQL (`meta`: a postgres:// URL, postgres.ts). Exposes the
 * single writer queue (txn.ts) and the reader; the schema and the root directory are the engine's
 * business at open.
 *
 * A mutation written `durable` (what a client's fsync waits for) is answered only once its commit
 * is on disk: SQLite syncs its write-ahead log after the COMMIT (see sqlite-engine.ts);
 * PostgreSQL's COMMIT returns only once its WAL is flushed (synchronous_commit=on, the default),
 * so there nothing more is needed.
 */
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { EngineReader, MetaEngine, Tx } from './engine.js';
import { SqliteEngine } from './sqlite-engine.js';
import { WriteQueue } from './txn.js';

export { CRASH_TEST_ENV } from './sqlite-engine.js';

export interface MasterDbOptions {
  dataDir: string;
  /** Replication goal of the root directory on first start. */
  defaultReplication: number;
  /** SQLite: 'full': fsync every commit (survives power loss); 'normal': survives process crashes. @default 'normal' */
  sync?: 'normal' | 'full';
  /** A postgres:// URL: the metadata lives in that PostgreSQL database instead of `dataDir`. */
  meta?: string;
  /** Where the engine tells what the master's log should show (PostgreSQL: lost connections, reconnections). */
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
      ? await (await import('./postgres.js')).PostgresEngine.open({ url: opts.meta, defaultReplication: opts.defaultReplication, log: opts.log })
      : await SqliteEngine.open(opts);
    return MasterDb.on(engine);
  }

  /** A MasterDb on an engine already open (tests). */
  static on(engine: MetaEngine): MasterDb {
    return new MasterDb(engine, engine.reader, new WriteQueue(engine.writer, engine.syncLog, () => engine.committed()));
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

  /** A consistent copy of the database at `dest`, from the reader (writes go on meanwhile); its schema version. */
  async snapshot(dest: string): Promise<number> {
    if (this.engine.kind !== 'sqlite') {
      throw new FsError('ENOTSUP', `metadata snapshots (backups, dumps) are taken of SQLite metadata only; back up PostgreSQL metadata with pg_dump`);
    }
    const version = await this.engine.schemaVersion();
    await this.engine.snapshot(dest);
    return version;
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.engine.close();
  }
}
