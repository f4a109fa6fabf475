/**
 * The database side of fencing: once the lease row names another holder at a higher epoch (as a
 * takeover leaves it), the master's next metadata transaction finds it and is refused, nothing of
 * it commits, and the master stops serving at once (with a 60 s lease its own clock would not have
 * fenced it for many seconds, nor its next renewal noticed). It then starts again in the same
 * process and, the lease being held, stands by.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { HaCluster } from '../helpers/ha-cluster.js';
import { usePostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/probes.js';

const pg15 = usePostgres();

describe('several masters: a stale master cannot commit', () => {
  let cluster: HaCluster | undefined;
  let client: pg.Client | undefined;
  afterEach(async () => {
    await client?.end();
    await cluster?.stop();
    cluster = client = undefined;
  });

  it('refuses its metadata transaction once the lease is taken, and stops serving', async () => {
    const meta = await pg15.get().createDatabase();
    cluster = await HaCluster.start({ meta, masters: 1, chunkservers: 1, replication: 1, masterLeaseMs: 60_000 });
    const master = cluster.masters[0]!;
    expect((await runCli('fst', ['--master', master.address, 'mkdir', '/before'])).code).toBe(0);

    client = new pg.Client({ connectionString: meta });
    await client.connect();
    // What a takeover by another master leaves behind.
    await client.query("UPDATE fst_master_lease SET holder = '00000000-0000-4000-8000-000000000000', epoch = epoch + 1, expires_at = now() + interval '1 hour'");

    const r = await runCli('fst', ['--master', master.address, 'mkdir', '/after']);
    expect(r.code, r.stderr).not.toBe(0);
    const dirs = await client.query<{ name: string }>("SELECT name FROM dentries WHERE parent = 1 AND name IN ('before', 'after') ORDER BY name");
    expect(dirs.rows.map((d) => d.name)).toEqual(['before']);
    await waitFor('the master fenced by its transaction', () => master.tail.some((l) => l.includes('a metadata transaction found the lease held by another master')), 30_000, 100);
    await waitFor('the master standing by', () => master.tail.some((l) => l.includes('"msg":"standby"')), 30_000, 100);
    expect(master.running).toBe(true);
  });
});
