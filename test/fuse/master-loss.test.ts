/**
 * A mount whose master goes away: operations that need the master fail with EIO after the
 * configured wait (never hang), and once the master is back the same mount works again without
 * remounting.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuseMount } from '../helpers/fuse-mount.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

describe('mount: master lost and back', () => {
  let cluster: ProcessCluster;
  let mount: FuseMount;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2 });
    // No cached names (entry TTL 0): the stat below must reach for the master, not a listing cached a moment ago.
    mount = await FuseMount.start(cluster.masterAddress, ['--master-timeout', '2', '--entry-timeout', '0']);
  });
  afterAll(async () => {
    await mount?.stop();
    await cluster?.stop();
  });

  it('answers EIO within the master timeout, then recovers when the master returns', async () => {
    writeFileSync(mount.path('before'), 'kept');
    await cluster.master.stop();
    const t0 = Date.now();
    let code = '';
    try {
      statSync(mount.path('never-seen-name'));
    } catch (e) {
      code = (e as { code: string }).code;
    }
    expect(code).toBe('EIO');
    expect(Date.now() - t0).toBeLessThan(30_000);
    await cluster.startMaster(cluster.master.address);
    await cluster.waitForChunkservers(2);
    expect(readFileSync(mount.path('before'), 'utf8')).toBe('kept');
    writeFileSync(mount.path('after'), 'works again');
    expect(readFileSync(mount.path('after'), 'utf8')).toBe('works again');
  });
});
