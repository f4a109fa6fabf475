/**
 * Promise wrapper over one `sqlite3` connection. The master opens two: one writer, used only by the
 * writer queue (txn.ts), and one reader for everything that does not change state, so that reads
 * never see another request's uncommitted transaction (WAL gives readers a committed snapshot).
 */
import sqlite3 from 'sqlite3';

export type SqlValue = number | string | Buffer | null;
export type SqlParams = SqlValue[];
export type Row = Record<string, SqlValue>;

export class SqliteConnection {
  private constructor(private readonly db: sqlite3.Database) {}

  static open(path: string, mode: 'write' | 'read'): Promise<SqliteConnection> {
    return new Promise((resolve, reject) => {
      const flags = mode === 'write' ? sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE : sqlite3.OPEN_READONLY;
      const db = new sqlite3.Database(path, flags, (err) => (err ? reject(err) : resolve(new SqliteConnection(db))));
    });
  }

  run(sql: string, params: SqlParams = []): Promise<{ changes: number; lastID: number }> {
    return new Promise((resolve, reject) => {
      this.db.run(sql, params, function (this: sqlite3.RunResult, err: Error | null) {
        if (err) reject(err);
        else resolve({ changes: this.changes, lastID: this.lastID });
      });
    });
  }

  get<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(sql, params, (err: Error | null, row: T | undefined) => (err ? reject(err) : resolve(row)));
    });
  }

  all<T extends Row = Row>(sql: string, params: SqlParams = []): Promise<T[]> {
    return new Promise((resolve, reject) => {
      this.db.all(sql, params, (err: Error | null, rows: T[]) => (err ? reject(err) : resolve(rows)));
    });
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}

/** The statements a transaction body may run (the writer connection, inside the queue). */
export type Tx = Pick<SqliteConnection, 'run' | 'get' | 'all'>;
/** The statements a read may run (the reader connection). */
export type Reader = Pick<SqliteConnection, 'get' | 'all'>;
