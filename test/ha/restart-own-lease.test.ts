/**
 * A master on PostgreSQL killed -9 and started again on the same address (as systemd restarts it)
 * takes its lease back at once instead of waiting it out: with a 60 s lease it is active again
 * well before the lease could have expired (DaemonProcess gives it 30 s to log "listening"), at the
 * next epoch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HaCluster } from '../helpers/ha-cluster.js';
import { usePostgres } from '../helpers/postgres.js';

const pg = usePostgres();

describe('several masters: a master restarted on its own address', () => {
  let cluster: HaCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('takes its lease back at once after kill -9', async () => {
    cluster = await HaCluster.start({ meta: await pg.get().createDatabase(), masters: 1, chunkservers: 1, replication: 1, masterLeaseMs: 60_000 });
    const address = cluster.masters[0]!.address;
    const before = await cluster.waitForActive(address);
    await cluster.masters[0]!.kill();
    await cluster.restartMaster(0, 'listening');
    const after = await cluster.waitForActive(address);
    expect(after.masters).toEqual([expect.objectContaining({ address, role: 'active', epoch: before.masters[0]!.epoch + 1 })]);
  });
});
