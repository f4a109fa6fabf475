/**
 * The PostgreSQL engine as the active master runs it: PostgreSQL holds the metadata, and the
 * master works on a copy of it in a local SQLite file that it loads when it becomes active (it is
 * then the only writer: master/ha/ fences every other). Reads and the writer queue's statements
 * run on the copy at SQLite's speed; each commit's changed rows (row-changes.ts) are written to
 * PostgreSQL behind it, several commits per PostgreSQL transaction (pg-write-behind.ts), and a
 * mutation is acknowledged only once PostgreSQL has committed it: what a client was told holds
 * whichever master serves next.
 *
 * Why: run statement by statement against PostgreSQL (postgres.ts), a create costs eight round
 * trips' worth of client and server CPU (about 45 µs a statement against 3 µs in SQLite) and the
 * namespace ran at a tenth of SQLite's speed.
 *
 * When PostgreSQL cannot take a transaction (its connection lost, a failover, the lease's guard
 * refusing), it is behind the copy for good: the engine reports it (`onFailed`), the master stops
 * serving and starts again (master/ha/master-runner.ts), loading the copy anew. Since commits
 * that no fsync waits for are not flushed at once by PostgreSQL (pg-write-behind.ts), a crash or
 * failover of the database server may lose the last of them, as a power cut of the machine loses
 * SQLite's last commits: the inode and chunk-id counters therefore move on by a wide gap at each
 * load, so that no number a lost commit handed out is ever handed out again.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { EngineReader, EngineWriter, MetaEngine, SqlParams, SqlValue, WriteGuard } from './engine.js';
import { MetaUnavailableError } from './pg-errors.js';
import { PgWriteBehind } from './pg-write-behind.js';
import { collectChanges, markChanges, tableShapes, type RowChanges, type TableShape } from './row-changes.js';
import { SqliteEngine } from './sqlite-engine.js';
import type { SqliteConnection } from './sqlite.js';
import { openPostgres, redactUrl, type PostgresEngineOptions } from './postgres.js';
import { cursorRows, dumpPostgres } from './postgres-dump.js';

/** How far the inode and chunk-id counters move on at each load (numbers stay far below 2^53). */
export const COUNTER_GAP = 1 << 20;
/** Rows per INSERT statement while loading the copy. */
const LOAD_ROWS = 500;

export interface PgWorkingCopyOptions extends PostgresEngineOptions {
  /** Where the copy's file goes (made afresh: the master's data directory). */
  dataDir: string;
}

/** The writer queue's connection: the copy's, with the changed rows read out before each COMMIT. */
class CopyWriter implements EngineWriter {
  /** What the last COMMIT changed, for `persist`. */
  changes: RowChanges | undefined;

  constructor(private readonly w: EngineWriter & SqliteConnection, private readonly shapes: Map<string, TableShape>) {}

  run(sql: string, params?: SqlParams): Promise<{ changes: number; lastID: number }> { return this.w.run(sql, params); }
  get<T extends Record<string, SqlValue>>(sql: string, params?: SqlParams): Promise<T | undefined> { return this.w.get<T>(sql, params); }
  all<T extends Record<string, SqlValue>>(sql: string, params?: SqlParams): Promise<T[]> { return this.w.all<T>(sql, params); }
  getRaw(sql: string, params?: SqlParams): Promise<SqlValue[] | undefined> { return this.w.getRaw(sql, params); }
  allRaw(sql: string, params?: SqlParams): Promise<SqlValue[][]> { return this.w.allRaw(sql, params); }
  runLater(sql: string, params?: SqlParams): void { this.w.runLater(sql, params); }
  begin(): Promise<void> { return this.w.begin(); }
  async commit(): Promise<void> {
    const changes = await collectChanges(this.w, this.shapes);
    await this.w.commit();
    this.changes = changes;
  }
  rollback(): Promise<void> { return this.w.rollback(); }
  savepoint(): Promise<void> { return this.w.savepoint(); }
  release(): Promise<void> { return this.w.release(); }
  rollbackToSavepoint(): Promise<void> { return this.w.rollbackToSavepoint(); }
}

export class PgWorkingCopyEngine implements MetaEngine {
  readonly kind = 'postgres';
  readonly writer: CopyWriter;
  readonly reader: EngineReader;

  private constructor(
    private readonly copy: SqliteEngine,
    private readonly behind: PgWriteBehind,
    shapes: TableShape[],
    readonly location: string,
    readonly created: boolean,
    private readonly url: string,
  ) {
    this.writer = new CopyWriter(copy.writer, new Map(shapes.map((s) => [s.name, s])));
    this.reader = copy.reader;
  }

  static async open(opts: PgWorkingCopyOptions): Promise<PgWorkingCopyEngine> {
    const { client, locator, created } = await openPostgres(opts);
    const dir = join(opts.dataDir, 'pg-working-copy');
    let copy: SqliteEngine | undefined;
    let behind: PgWriteBehind | undefined;
    try {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      copy = await SqliteEngine.open({ dataDir: dir, defaultReplication: opts.defaultReplication });
      await copy.writer.exec('PRAGMA synchronous = OFF;'); // PostgreSQL is what lasts
      const shapes = await tableShapes(copy.writer);
      await loadCopy(client, copy.writer, shapes);
      await markChanges(copy.writer, shapes);
      behind = await PgWriteBehind.open(locator, shapes, opts.log, opts.answerTimeoutMs);
      const engine = new PgWorkingCopyEngine(copy, behind, shapes, redactUrl(opts.url), created, opts.url);
      await engine.moveCountersOn();
      return engine;
    } catch (e) {
      await behind?.close().catch(() => undefined);
      await copy?.close().catch(() => undefined);
      throw e;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** See COUNTER_GAP; written (durably) before anything is served. */
  private async moveCountersOn(): Promise<void> {
    await this.writer.begin();
    await this.writer.run("UPDATE counters SET value = value + ? WHERE name IN ('next_ino', 'next_chunk_id')", [COUNTER_GAP]);
    await this.writer.commit();
    await this.persist(true);
  }

  /** The last commit's changes on their way to PostgreSQL: resolves once committed there (and what came before). */
  persist(durable: boolean): Promise<void> {
    const changes = this.writer.changes;
    this.writer.changes = undefined;
    return this.behind.add(changes, durable);
  }

  /** `listener` runs once when PostgreSQL fell behind the copy for good (the master must start again). */
  onFailed(listener: (e: Error) => void): void {
    this.behind.onFailed(listener);
  }

  committed(): void {
    // The copy's reader sees its own data_version move.
  }

  guardWrites(guard: WriteGuard): void {
    this.behind.guard = guard;
  }

  schemaVersion(): Promise<number> {
    return this.copy.schemaVersion();
  }

  /** A dump of PostgreSQL (postgres-dump.ts): what every acknowledged mutation is in. */
  async snapshot(dest: string): Promise<void> {
    await dumpPostgres(this.url, dest, Date.now());
  }

  async close(): Promise<void> {
    await this.behind.close();
    await this.copy.close();
  }
}

/**
 * The copy made from PostgreSQL's rows (the copy's own first rows are dropped), in one transaction
 * on each side; each table read through a cursor, so a large namespace is never held in memory.
 */
async function loadCopy(pgClient: pg.Client, copy: SqliteConnection, shapes: TableShape[]): Promise<void> {
  await pgClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await copy.exec('BEGIN');
    for (const t of shapes) {
      await copy.run(`DELETE FROM ${t.name}`);
      const one = `(${t.columns.map(() => '?').join(', ')})`;
      const insert = (rows: SqlValue[][]): Promise<unknown> =>
        copy.run(`INSERT INTO ${t.name} (${t.columns.join(', ')}) VALUES ${rows.map(() => one).join(', ')}`, rows.flat());
      let part: SqlValue[][] = [];
      for await (const row of cursorRows(pgClient, t.name, t.columns)) {
        part.push(row as SqlValue[]);
        if (part.length === LOAD_ROWS) {
          await insert(part);
          part = [];
        }
      }
      if (part.length > 0) await insert(part);
    }
    await copy.exec('COMMIT');
  } catch (e) {
    await copy.exec('ROLLBACK').catch(() => undefined);
    throw e instanceof Error && !(e instanceof MetaUnavailableError) ? new MetaUnavailableError(`loading the metadata from PostgreSQL failed: ${e.message}`, { cause: e }) : e;
  } finally {
    await pgClient.query('COMMIT').catch(() => undefined);
  }
}
