/**
 * readdir paging, and the 10-million-file rule: every statement the namespace runs is checked
 * with EXPLAIN QUERY PLAN to use a key or an index, never a table scan or a sort.
 */
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import type { MasterDb } from '../../src/master/db/database.js';
import type { Reader, SqlParams, Tx } from '../../src/master/db/engine.js';
import { Namespace, type NamespaceDb } from '../../src/master/tree/namespace.js';
import { ENGINES, ROOT, addChunks, expectErrno, useNamespace } from './helpers.js';

const { REGULAR } = fst.FileType;
const F = fst.SetAttrField;

/** The database seen through a recorder of every SQL text the namespace sends. */
function recording(db: MasterDb, seen: Set<string>): NamespaceDb {
  const wrap = (q: Tx): Tx => ({
    run: (sql: string, params?: SqlParams) => (seen.add(sql), q.run(sql, params)),
    runLater: (sql: string, params?: SqlParams) => void (seen.add(sql), q.runLater(sql, params)),
    get: ((sql: string, params?: SqlParams) => (seen.add(sql), q.get(sql, params))) as Tx['get'],
    all: ((sql: string, params?: SqlParams) => (seen.add(sql), q.all(sql, params))) as Tx['all'],
    getRaw: (sql: string, params?: SqlParams) => (seen.add(sql), q.getRaw(sql, params)),
    allRaw: (sql: string, params?: SqlParams) => (seen.add(sql), q.allRaw(sql, params)),
  });
  const reader: NamespaceDb['reader'] = {
    get: ((sql: string, params?: SqlParams) => (seen.add(sql), db.reader.get(sql, params))) as Reader['get'],
    all: ((sql: string, params?: SqlParams) => (seen.add(sql), db.reader.all(sql, params))) as Reader['all'],
    getRaw: (sql: string, params?: SqlParams) => (seen.add(sql), db.reader.getRaw(sql, params)),
    allRaw: (sql: string, params?: SqlParams) => (seen.add(sql), db.reader.allRaw(sql, params)),
    dataVersion: () => db.reader.dataVersion(),
    close: () => db.reader.close(),
  };
  return { reader, write: (body) => db.write((tx) => body(wrap(tx))) };
}

describe.each(ENGINES)('Namespace: readdir (%s)', (engine) => {
  const fx = useNamespace(engine);

  it('pages through 2,500 entries in byte order, with and without attributes', async () => {
    const d = (await fx.ns.mkdir(ROOT, 'big', 0o755)).attr.ino ?? 0;
    const names = Array.from({ length: 2500 }, (_, i) => (i % 10 === 0 ? `é${i}` : `f${i}`));
    await Promise.all(names.map((n) => fx.ns.mknod(d, n, REGULAR, 0o644, 0, null, true)));
    const expected = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

    const got: string[] = [];
    const mores: boolean[] = [];
    let after = '';
    for (;;) {
      const page = await fx.ns.readdir(d, after, 1000);
      got.push(...page.entries.map((e) => e.name));
      mores.push(page.more);
      const last = page.entries.at(-1);
      if (!page.more || !last) break;
      after = last.name;
    }
    expect(mores).toEqual([true, true, false]);
    expect(got).toEqual(expected);

    const plus = await fx.ns.readdir(d, expected[1499], 3, true);
    expect(plus.entries.map((e) => e.name)).toEqual(expected.slice(1500, 1503));
    for (const e of plus.entries) {
      expect(e.type).toBe(REGULAR);
      expect(e.attr).toEqual(await fx.ns.lookup(d, e.name));
    }
    expect((await fx.ns.readdir(d)).entries).toHaveLength(1000); // default page
    const clamped = await fx.ns.readdir(d, '', 20_000);
    expect(clamped.entries).toHaveLength(2500);
    expect(clamped.more).toBe(false);
    expect(clamped.entries[0]).toEqual({ name: expected[0], ino: expect.any(Number), type: REGULAR });
  });

  it('empty directory, dots never listed, ENOTDIR and ENOENT', async () => {
    const d = (await fx.ns.mkdir(ROOT, 'e', 0o755)).attr.ino ?? 0;
    expect(await fx.ns.readdir(d)).toEqual({ entries: [], more: false, changeSeq: 0 });
    const f = (await fx.ns.mknod(ROOT, 'f', REGULAR, 0o644, 0)).attr.ino ?? 0;
    await expectErrno(fx.ns.readdir(f), 'ENOTDIR');
    await expectErrno(fx.ns.readdir(9999), 'ENOENT');
  });
});

describe.each(ENGINES)('Namespace: query plans (%s)', (engine) => {
  const fx = useNamespace(engine);

  // SQLite's EXPLAIN QUERY PLAN (PostgreSQL's planner picks scans of tables this small: no signal).
  it.skipIf(engine !== 'sqlite')('every statement of every operation uses a key or an index', async () => {
    const seen = new Set<string>();
    const ns = new Namespace(recording(fx.db, seen));
    const a = (await ns.mkdir(ROOT, 'a', 0o755)).attr.ino ?? 0;
    const b = (await ns.mkdir(ROOT, 'b', 0o755)).attr.ino ?? 0;
    const sub = (await ns.mkdir(a, 'sub', 0o755)).attr.ino ?? 0;
    const f = (await ns.mknod(a, 'f', REGULAR, 0o644, 0)).attr.ino ?? 0;
    await ns.mknod(a, 'f', REGULAR, 0o644, 0);
    await addChunks(fx.db, f, [0, 1]);
    await ns.lookup(a, 'f');
    await ns.lookup(sub, '..');
    await ns.getattr(f);
    await ns.setattr(f, { fields: F.SET_ATTR_SIZE | F.SET_ATTR_MODE, size: 1, mode: 0o600 });
    await ns.link(f, b, 'g');
    await ns.symlink(b, 'l', 'target');
    await ns.readlink((await ns.lookup(b, 'l')).ino ?? 0);
    await ns.readdir(a, '', 10, false);
    await ns.readdir(a, 'a', 10, true);
    await ns.setxattr(f, 'user.x', Buffer.from('1'));
    await ns.getxattr(f, 'user.x');
    await ns.listxattr(f);
    await ns.removexattr(f, 'user.x');
    await ns.rename(a, 'sub', b, 'sub');
    await ns.mknod(b, 'victim', REGULAR, 0o644, 0);
    await ns.rename(b, 'g', b, 'victim');
    await ns.unlink(a, 'f');
    const kept = (await ns.mknod(b, 'kept', REGULAR, 0o644, 0)).attr.ino ?? 0;
    await ns.unlink(b, 'kept', undefined, kept);
    await ns.updateOrphans([kept], []);
    await ns.expireOrphans(0);
    await ns.updateOrphans([], [kept]);
    await ns.unlink(b, 'victim');
    await ns.rmdir(b, 'sub');
    await ns.statfsCounts();

    expect(seen.size).toBeGreaterThan(20);
    const bad: string[] = [];
    for (const sql of seen) {
      const params = Array.from(sql.match(/\?/g) ?? [], () => null);
      const plan = await fx.db.reader.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
      for (const { detail } of plan) {
        if (/^SCAN /.test(detail) || /TEMP B-TREE/.test(detail)) bad.push(`${detail}  <-  ${sql.replace(/\s+/g, ' ')}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe.each(ENGINES)('Namespace: change_seq of directories (%s)', (engine) => {
  const fx = useNamespace(engine);

  it('counts exactly one per call that changes a directory\'s entries, and nothing else', async () => {
    const seq = async (ino: number): Promise<number> => Number((await fx.ns.getattr(ino)).changeSeq ?? 0);
    const a = (await fx.ns.mkdir(ROOT, 'a', 0o755)).attr.ino ?? 0;
    const b = (await fx.ns.mkdir(ROOT, 'b', 0o755)).attr.ino ?? 0;
    expect([await seq(a), await seq(b)]).toEqual([0, 0]);
    const made = await fx.ns.mknod(a, 'f', REGULAR, 0o644, 0);
    expect(made.parentAttr.changeSeq).toBe(1);
    const f = made.attr.ino ?? 0;
    await fx.ns.symlink(a, 's', 'f');
    await fx.ns.mkdir(a, 'd', 0o755);
    await fx.ns.link(f, a, 'g');
    expect(await seq(a)).toBe(4);
    // Changes of attributes, of a file's data or of an entry's inode do not count.
    await fx.ns.setattr(a, { fields: fst.SetAttrField.SET_ATTR_MODE, mode: 0o700 });
    await fx.ns.setattr(f, { fields: fst.SetAttrField.SET_ATTR_MODE, mode: 0o600 });
    await fx.ns.setxattr(a, 'user.x', Buffer.from('1'));
    expect(await seq(a)).toBe(4);
    // A rename within a directory is one change; across two, one in each.
    expect((await fx.ns.rename(a, 'g', a, 'h')).parentAttr.changeSeq).toBe(5);
    const moved = await fx.ns.rename(a, 'h', b, 'h');
    expect([moved.parentAttr.changeSeq, moved.newParentAttr.changeSeq]).toEqual([6, 1]);
    expect((await fx.ns.unlink(b, 'h')).parentAttr.changeSeq).toBe(2);
    expect((await fx.ns.rmdir(a, 'd')).parentAttr.changeSeq).toBe(7);
    // A failed call changes nothing.
    await expectErrno(fx.ns.unlink(a, 'missing'), 'ENOENT');
    expect(await seq(a)).toBe(7);
    // A readdir page says the number it was read at.
    expect((await fx.ns.readdir(a)).changeSeq).toBe(7);
  });
});
