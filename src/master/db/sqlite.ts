/**
 * One SQLite connection (better-sqlite3) behind the promise-shaped API the master's code is written
 * against. The master opens two: one writer, used only by the writer queue (txn.ts), and one reader
 * for everything that does not change state, so that reads never see another request's
 * uncommitted transaction (WAL gives readers a committed snapshot).
 *
 * Why synchronous: with the asynchronous `sqlite3` driver every statement was two hops to the
 * thread pool and back, and was parsed again each time; a create (about ten statements) spent most
 * of its 1.5 ms of master CPU switching threads, and SQLite's own work was under a tenth of it. A
 * statement on a cached page takes microseconds, less than the hop. Statements are prepared once
 * per SQL text and kept (the master runs a fixed set).
 */
import Database, { type Statement } from 'better-sqlite3';
import type { Row, SqlConnection, SqlParams, SqlValue } from './engine.js';

export type { Reader, Row, SqlParams, SqlValue, Tx } from './engine.js';

/** Prepared statements kept per connection (the master's own SQL is a few hundred texts at most). */
const MAX_CACHED_STATEMENTS = 1000;

export class SqliteConnection implements SqlConnection {
  private readonly statements = new Map<string, Statement>();
  /** The same SQL prepared to answer arrays of values (no object per row: much cheaper for wide rows). */
  private readonly rawStatements = new Map<string, Statement>();

  constructor(private readonly db: Database.Database) {}

  static open(path: string, mode: 'write' | 'read'): Promise<SqliteConnection> {
    return SqliteConnection.openAs(SqliteConnection, path, mode);
  }

  /** Opens a connection of a subclass (the engine's writer). */
  static openAs<C extends SqliteConnection>(cls: new (db: Database.Database) => C, path: string, mode: 'write' | 'read'): Promise<C> {
    try {
      return Promise.resolve(new cls(new Database(path, { readonly: mode === 'read', fileMustExist: mode === 'read' })));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private prepare(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  private prepareRaw(sql: string): Statement {
    let s = this.rawStatements.get(sql);
    if (!s) {
      s = this.db.prepare(sql).raw(true);
      if (this.rawStatements.size >= MAX_CACHED_STATEMENTS) this.rawStatements.clear();
      this.rawStatements.set(sql, s);
    }
    return s;
  }

  /** One row as an array of its columns' values, in the SELECT's order (wide rows read often). */
  getRaw(sql: string, params: SqlParams = []): Promise<SqlValue[] | undefined> {
    try {
      return Promise.resolve(this.prepareRaw(sql).get(params) as SqlValue[] | undefined);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** Rows as arrays of values (see getRaw). */
  allRaw(sql: string, params: SqlParams = []): Promise<SqlValue[][]> {
    try {
      return Promise.resolve(this.prepareRaw(sql).all(params) as SqlValue[][]);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** The same as runSync, as a promise (the master's code awaits every statement). */
  run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    try {
      return Promise.resolve(this.runSync(sql, params));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  get<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    try {
      return Promise.resolve(this.prepare(sql).get(params) as T | undefined);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  all<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T[]> {
    try {
      return Promise.resolve(this.prepare(sql).all(params) as T[]);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /** A statement that changes rows; answers how many and the last rowid inserted. */
  runSync(sql: string, params: SqlParams = []): { changes: number; lastID: number } {
    const r = this.prepare(sql).run(params);
    return { changes: r.changes, lastID: Number(r.lastInsertRowid) };
  }

  /**
   * A number that changes whenever another connection (the master's writer, or another process)
   * committed since it was last read: while it stays, everything this connection read still holds.
   */
  dataVersion(): number {
    return (this.prepareRaw('PRAGMA data_version').get() as SqlValue[])[0] as number;
  }

  /** Several statements without parameters (schema, pragmas); nothing is cached. */
  exec(sql: string): Promise<void> {
    try {
      this.db.exec(sql);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  /**
   * A consistent copy of the database at `dest` (SQLite's online backup), taken while others go on
   * writing: after a first step, the rest is copied in one step, inside one read snapshot, so
   * commits meanwhile cannot make it start over.
   */
  backup(dest: string): Promise<void> {
    return this.db.backup(dest, { progress: ({ remainingPages }) => Math.max(1, remainingPages) }).then(() => undefined);
  }

  close(): Promise<void> {
    this.statements.clear();
    this.rawStatements.clear();
    this.db.close();
    return Promise.resolve();
  }
}
