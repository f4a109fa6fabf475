/**
 * Listings answered again while nothing was committed (master/tree/listing-cache.ts): a walk's
 * second listing of a directory runs no query, and any commit, also one that leaves the directory's
 * own entries alone (a child's chmod, a write to a child), is seen by the next listing.
 */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { MasterDb } from '../../src/master/db/database.js';
import { Namespace, type NamespaceDb } from '../../src/master/tree/namespace.js';
import { ENGINES, ROOT, useNamespace } from './helpers.js';

const { REGULAR } = fst.FileType;
const F = fst.SetAttrField;

/** The database with a count of the reader's queries. */
function counting(db: MasterDb): { db: NamespaceDb; queries: () => number } {
  let n = 0;
  const r = db.reader;
  const reader: NamespaceDb['reader'] = {
    get: ((sql, params) => (n++, r.get(sql, params))) as typeof r.get,
    all: ((sql, params) => (n++, r.all(sql, params))) as typeof r.all,
    getRaw: (sql, params) => (n++, r.getRaw(sql, params)),
    allRaw: (sql, params) => (n++, r.allRaw(sql, params)),
    dataVersion: () => r.dataVersion(),
    close: () => r.close(),
  };
  return { db: { reader, write: (body) => db.write(body) }, queries: () => n };
}

describe.each(ENGINES)('Namespace: listings answered again until a commit (%s)', (engine) => {
  const fx = useNamespace(engine);

  it('lists again without a query, and shows every commit since, in the directory or in a child', async () => {
    const { db, queries } = counting(fx.db);
    const ns = new Namespace(db);
    const d = (await ns.mkdir(ROOT, 'd', 0o755)).attr.ino ?? 0;
    const f = (await ns.mknod(d, 'f', REGULAR, 0o644, 0)).attr.ino ?? 0;
    const first = await ns.readdir(d, '', 0, true);
    const before = queries();
    const again = await ns.readdir(d, '', 0, true);
    expect(queries()).toBe(before);
    expect(again).toEqual(first);

    // A child's mode changes; the directory's entries and change_seq do not.
    await ns.setattr(f, { fields: F.SET_ATTR_MODE, mode: 0o600 });
    const chmodded = await ns.readdir(d, '', 0, true);
    expect(queries()).toBeGreaterThan(before);
    expect(chmodded.changeSeq).toBe(first.changeSeq);
    expect((chmodded.entries[0]!.attr!.mode ?? 0) & 0o777).toBe(0o600);

    // The same with another page size, or without attributes, is another listing.
    expect((await ns.readdir(d, '', 1, false)).entries.map((e) => e.name)).toEqual(['f']);
    await ns.mknod(d, 'g', REGULAR, 0o644, 0);
    expect((await ns.readdir(d, '', 0, true)).entries.map((e) => e.name)).toEqual(['f', 'g']);
  });

  // SQLite's data_version moves at any connection's commit; on PostgreSQL it counts this master's
  // commits (the only writer until several masters share one database, with a lease).
  it.skipIf(engine !== 'sqlite')('sees a commit made by another connection to the database', async () => {
    const ns = new Namespace(fx.db);
    const d = (await ns.mkdir(ROOT, 'd', 0o755)).attr.ino ?? 0;
    expect((await ns.readdir(d, '', 0, true)).entries).toEqual([]);
    // Another set of connections to the same file commits (as another process would).
    const second = await MasterDb.open({ dataDir: fx.dataDir, defaultReplication: 3 });
    try {
      await new Namespace(second).mknod(d, 'x', REGULAR, 0o644, 0);
    } finally {
      await second.close();
    }
    expect((await ns.readdir(d, '', 0, true)).entries.map((e) => e.name)).toEqual(['x']);
  });
});
