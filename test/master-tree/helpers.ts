/**
 * Test fixture for the namespace: a real MasterDb on each metadata engine — a real SQLite file in
 * a temp dir, or a fresh database of a PostgreSQL cluster started once per test file
 * (test/helpers/postgres.ts) — removed in afterEach/afterAll whatever happened, plus small helpers
 * (errno assertions, timespec maths, chunk rows).
 *
 * The conformance suite: test files run their describes once per engine of ENGINES
 * (`describe.each(ENGINES)`); FST_TEST_ENGINES=sqlite (a comma list) narrows it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import type { fst } from '../../src/proto-gen/fst.js';
import type { ErrnoName } from '../../src/common/errors/errno.js';
import { MasterDb } from '../../src/master/db/database.js';
import { Namespace } from '../../src/master/tree/namespace.js';
import { PgCluster } from '../helpers/postgres.js';

export type Engine = 'sqlite' | 'postgres';
export const ENGINES: Engine[] = (process.env.FST_TEST_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim()).filter((e): e is Engine => e === 'sqlite' || e === 'postgres');

/** The test file's PostgreSQL cluster, started by its first PostgreSQL test, stopped after the file. */
let cluster: Promise<PgCluster> | undefined;
afterAll(async () => {
  const c = cluster;
  cluster = undefined;
  await (await c?.catch(() => undefined))?.stop();
});

export interface Fixture {
  engine: Engine;
  dataDir: string;
  /** PostgreSQL: the test's database. */
  meta?: string;
  db: MasterDb;
  ns: Namespace;
  /** Closes the database and opens it again from the same files (restart). */
  reopen(): Promise<void>;
}

/** Registers beforeEach/afterEach hooks; the returned object is filled before each test. */
export function useNamespace(engine: Engine = 'sqlite'): Fixture {
  const fx = { engine } as Fixture;
  let open: MasterDb | undefined;
  beforeEach(async () => {
    fx.dataDir = await mkdtemp(join(tmpdir(), 'fst-tree-'));
    if (engine === 'postgres') fx.meta = await (await (cluster ??= PgCluster.start())).createDatabase();
    open = await MasterDb.open({ dataDir: fx.dataDir, defaultReplication: 3, meta: fx.meta });
    fx.db = open;
    fx.ns = new Namespace(open);
    fx.reopen = async () => {
      await open?.close();
      open = undefined;
      open = await MasterDb.open({ dataDir: fx.dataDir, defaultReplication: 3, meta: fx.meta });
      fx.db = open;
      fx.ns = new Namespace(open);
    };
  });
  afterEach(async () => {
    try {
      await open?.close();
    } finally {
      open = undefined;
      await rm(fx.dataDir, { recursive: true, force: true });
    }
  });
  return fx;
}

export async function expectErrno(p: Promise<unknown>, code: ErrnoName): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'FsError', code });
}

/** A timespec as one bigint of nanoseconds, for ordering comparisons. */
export function ns(t: fst.ITimespec | null | undefined): bigint {
  return BigInt(t?.sec ?? 0) * 1_000_000_000n + BigInt(t?.nsec ?? 0);
}

export const ROOT = 1;
export const alice = { uid: 1000, gid: 1000, groups: [1000, 50] };
export const bob = { uid: 1001, gid: 1001, groups: [1001] };
export const rootCaller = { uid: 0, gid: 0, groups: [] };

let nextChunkId = 1_000_000;

/** Inserts chunk rows for `ino` at the given indexes, keeping the `chunks` counter right. */
export async function addChunks(db: MasterDb, ino: number, idxs: number[]): Promise<number[]> {
  const ids = idxs.map(() => nextChunkId++);
  await db.write(async (tx) => {
    for (const [i, idx] of idxs.entries()) {
      await tx.run('INSERT INTO chunks (ino, idx, chunk_id, version) VALUES (?, ?, ?, 1)', [ino, idx, ids[i] ?? 0]);
    }
    await tx.run("UPDATE counters SET value = value + ? WHERE name = 'chunks'", [idxs.length]);
  });
  return ids;
}

export async function chunkIdxs(db: MasterDb, ino: number): Promise<number[]> {
  const rows = await db.reader.all<{ idx: number }>('SELECT idx FROM chunks WHERE ino = ? ORDER BY idx', [ino]);
  return rows.map((r) => r.idx);
}

export async function deletedChunks(db: MasterDb): Promise<number[]> {
  const rows = await db.reader.all<{ chunk_id: number }>('SELECT chunk_id FROM deleted_chunks ORDER BY chunk_id');
  return rows.map((r) => r.chunk_id);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
