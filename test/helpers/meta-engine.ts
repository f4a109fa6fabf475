/**
 * Which metadata engine the test clusters' masters run on: FST_TEST_META=postgres gives every
 * fst-master a test starts (startProcessCluster, and the few tests that start one themselves)
 * `--meta postgres://...`, a fresh database per FST cluster on one PostgreSQL cluster per test
 * file (test/helpers/postgres.ts); unset or `sqlite`, masters keep SQLite in their data directory.
 *
 * The PostgreSQL cluster starts at the first database a test file asks for and stops after the
 * file (an afterAll this module registers when imported, so after the file's own hooks that stop
 * the masters); a runner killed mid-file still stops it (PgCluster's exit handler).
 */
import { afterAll } from 'vitest';
import { PgCluster } from './postgres.js';

export type TestMeta = 'sqlite' | 'postgres';

function parseTestMeta(value: string | undefined): TestMeta {
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite';
  if (value === 'postgres') return 'postgres';
  throw new Error(`FST_TEST_META must be sqlite or postgres, not "${value}"`);
}

export const TEST_META: TestMeta = parseTestMeta(process.env.FST_TEST_META);
/** Masters run on PostgreSQL in this run (for `it.skipIf(ON_POSTGRES)` of SQLite-file tests). */
export const ON_POSTGRES = TEST_META === 'postgres';

let shared: Promise<PgCluster> | undefined;

if (ON_POSTGRES) {
  afterAll(async () => {
    const c = shared;
    shared = undefined;
    await (await c?.catch(() => undefined))?.stop();
  });
}

function pgCluster(): Promise<PgCluster> {
  shared ??= PgCluster.start();
  return shared;
}

/** A new empty metadata database for one FST cluster; its URL (for `--meta`). */
export async function createMetaDatabase(): Promise<string> {
  return (await pgCluster()).createDatabase();
}

/** Drops a database createMetaDatabase made (its master stopped): the cluster stays small. */
export async function dropMetaDatabase(url: string): Promise<void> {
  const c = await shared?.catch(() => undefined);
  await c?.dropDatabase(url);
}

/**
 * The `--meta` flags of a new master in this run: `['--meta', URL]` of a fresh database on
 * PostgreSQL, none on SQLite.
 */
export async function newMetaArgs(): Promise<string[]> {
  return ON_POSTGRES ? ['--meta', await createMetaDatabase()] : [];
}

/** The same for a master's config file: `meta = "URL"` on PostgreSQL, no line on SQLite. */
export async function newMetaConfigLines(): Promise<string[]> {
  return ON_POSTGRES ? [`meta = "${await createMetaDatabase()}"`] : [];
}
