/**
 * The PostgreSQL reader's pipelined connections (db/pg-readers.ts): reads spread over
 * them answer right, in any number at once, and a connection the server dropped is made again by
 * the reads that follow.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { fst } from '../../src/proto-gen/fst.js';
import { waitFor } from '../helpers/probes.js';
import { ENGINES, ROOT, useNamespace } from './helpers.js';

describe.skipIf(!ENGINES.includes('postgres'))('the PostgreSQL reader (postgres)', () => {
  const fx = useNamespace('postgres');

  it('answers many reads at once, each with its own row', async () => {
    const inos: number[] = [];
    for (let i = 0; i < 20; i++) inos.push((await fx.ns.mknod(ROOT, `f${i}`, fst.FileType.REGULAR, 0o600 + i, 0)).attr.ino ?? 0);
    const attrs = await Promise.all(Array.from({ length: 400 }, (_, k) => fx.ns.getattr(inos[k % 20]!)));
    attrs.forEach((a, k) => expect(a).toMatchObject({ ino: inos[k % 20], mode: 0o600 + (k % 20) }));
    const looked = await Promise.all(Array.from({ length: 200 }, (_, k) => fx.ns.lookup(ROOT, `f${k % 20}`)));
    looked.forEach((a, k) => expect(a.ino).toBe(inos[k % 20]));
  });

  it('reads again once the server dropped its connections', async () => {
    const ino = (await fx.ns.mknod(ROOT, 'f', fst.FileType.REGULAR, 0o644, 0)).attr.ino ?? 0;
    expect((await fx.ns.getattr(ino)).ino).toBe(ino);
    const admin = new pg.Client({ connectionString: fx.meta });
    await admin.connect();
    try {
      const killed = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fst-master-reader' AND datname = current_database()");
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    // A read on a dropped connection fails, as on a pool; the reads after it connect again.
    await waitFor('a read after the reader connections were dropped', async () => (await fx.ns.getattr(ino)).ino === ino, 10_000, 50);
    const after = await Promise.all(Array.from({ length: 50 }, () => fx.ns.getattr(ino)));
    expect(after.every((a) => a.ino === ino)).toBe(true);
  });
});
