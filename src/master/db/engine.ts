/**
 * The metadata engine seam. The master's namespace and chunk code write portable SQL (the subset
 * both engines accept, with `?` placeholders) against these connection types; an engine supplies
 * the connections, its schema, and the few things that are not SQL statements (the schema
 * version, a snapshot, when a commit is durable, a number that changes at every commit).
 *
 * Two engines: SQLite (sqlite-engine.ts, the default: a file in the data directory) and PostgreSQL
 * (pg-working-copy.ts, `--meta postgres://...`), which runs the same SQL on a local SQLite copy of
 * the database and writes the rows each commit changed to PostgreSQL behind it. Whatever the
 * engine, every mutation goes through the master's single writer queue (txn.ts) on the engine's
 * writer connection; reads go to its reader.
 */
export type SqlValue = number | string | Buffer | null;
export type SqlParams = SqlValue[];
export type Row = Record<string, SqlValue>;

/** One connection's statements, as the master's code awaits them. */
export interface SqlConnection {
  /** A statement that changes rows; answers how many (lastID: SQLite only, 0 elsewhere). */
  run(sql: string, params?: SqlParams): Promise<{ changes: number; lastID: number }>;
  get<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T | undefined>;
  all<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]>;
  /** One row as an array of its columns' values, in the SELECT's order (wide rows read often). */
  getRaw(sql: string, params?: SqlParams): Promise<SqlValue[] | undefined>;
  /** Rows as arrays of values (see getRaw). */
  allRaw(sql: string, params?: SqlParams): Promise<SqlValue[][]>;
}

/** The statements a transaction body may run (the writer connection, inside the queue). */
export type Tx = Pick<EngineWriter, 'run' | 'get' | 'all' | 'getRaw' | 'allRaw' | 'runLater'>;
/** The statements a read may run (the reader connection). */
export type Reader = Pick<SqlConnection, 'get' | 'all' | 'getRaw' | 'allRaw'>;

/** The reader side of an engine: reads, plus the number the listing cache keys on. */
export interface EngineReader extends Reader {
  /**
   * A number that changes whenever a commit happened since it was last read: while it stays,
   * everything read still holds (tree/listing-cache.ts).
   */
  dataVersion(): number;
  close(): Promise<void>;
}

/** The writer side: the connection the writer queue runs its transactions on. */
export interface EngineWriter extends SqlConnection {
  /**
   * A statement whose answer the body does not need (an INSERT, an UPDATE by key after the body's
   * checks), run at once without a promise (SQLite is synchronous: no microtask per write); a
   * failure throws here, into the body.
   */
  runLater(sql: string, params?: SqlParams): void;
  /** Opens the queue's transaction (SQLite: BEGIN IMMEDIATE, retried while another process holds the lock). */
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** Savepoints around each mutation of a group. */
  savepoint(): Promise<void>;
  release(): Promise<void>;
  rollbackToSavepoint(): Promise<void>;
}

/** What a master's transactions check its lease with (master/ha/active-master.ts). */
export interface WriteGuard {
  /** A statement each transaction runs first: it raises SQLSTATE LEASE_LOST (master/ha/lease-table.ts) unless the lease is this master's. */
  sql: () => string;
  /** What a refused transaction fails with (and the lease is given up). */
  refused: () => Error;
}

export interface MetaEngine {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the metadata lives, for logs (a file path or a URL without its password). */
  readonly location: string;
  readonly writer: EngineWriter;
  readonly reader: EngineReader;
  /** The metadata was made by this open (a namespace nobody used before). */
  readonly created: boolean;
  /**
   * Makes every commit so far durable; absent when every commit already is once COMMIT returns
   * (SQLite with sync=full), or when `persist` sees to it (PostgreSQL).
   */
  readonly syncLog?: () => Promise<void>;
  /**
   * Called by the writer queue right after each COMMIT; the group's mutations are acknowledged once
   * it resolves (`durable`: the group holds one an fsync waits for). The PostgreSQL engine sends the
   * commit's changes to the database there (pg-working-copy.ts). Absent: acknowledged at COMMIT
   * (after `syncLog` for a durable group).
   */
  persist?(durable: boolean): Promise<void>;
  /** Runs `listener` once if the engine can no longer serve (the master must start again). */
  onFailed?(listener: (e: Error) => void): void;
  /** Called by the writer queue after each COMMIT. */
  committed(): void;
  /** The schema version of the metadata (SQLite: PRAGMA user_version). */
  schemaVersion(): Promise<number>;
  /**
   * Several masters on one database (PostgreSQL only, master/ha/): every transaction written to the
   * database runs `guard.sql()` first, and is refused with `guard.refused()` when that raises.
   */
  guardWrites?(guard: WriteGuard): void;
  /** A consistent copy at `dest` in the engine's backup format (SQLite: a database file; PostgreSQL: a dump, dump-format.ts). */
  snapshot(dest: string): Promise<void>;
  close(): Promise<void>;
}

export interface EngineOpenOptions {
  /** Replication goal of the root directory on first start. */
  defaultReplication: number;
}

/** The root directory's row and the counters a new namespace starts with (both engines). */
export function initialRows(defaultReplication: number, nowMs: number): { sql: string; params: SqlParams }[] {
  const s = Math.floor(nowMs / 1000);
  const ns = (nowMs % 1000) * 1_000_000;
  return [
    {
      sql: `INSERT INTO inodes (ino, type, mode, uid, gid, nlink, size, atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, replication, parent)
       VALUES (1, 2, 493, 0, 0, 2, 0, ?, ?, ?, ?, ?, ?, ?, 1)`,
      params: [s, ns, s, ns, s, ns, defaultReplication],
    },
    {
      sql: "INSERT INTO counters (name, value) VALUES ('next_chunk_id', 1), ('next_ino', 2), ('files', 0), ('directories', 1), ('chunks', 0)",
      params: [],
    },
  ];
}
