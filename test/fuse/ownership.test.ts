/**
 * Ownership and permissions on the mount: new files belong to the calling user and group, and the
 * kernel enforces permission bits (default_permissions) — EACCES for a user writing where only
 * root may.
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuseMount, sh } from '../helpers/fuse-mount.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const asUser = (cmd: string): string => `setpriv --reuid=1234 --regid=5678 --clear-groups bash -c ${JSON.stringify(cmd)}`;

describe('mount: ownership and permissions', () => {
  let cluster: ProcessCluster;
  let mount: FuseMount;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2 });
    mount = await FuseMount.start(cluster.masterAddress, ['--allow-other']);
    // The temp mountpoint's parent must be reachable by the other user.
    await sh(`chmod 755 ${mount.dir}`);
  });
  afterAll(async () => {
    await mount?.stop();
    await cluster?.stop();
  });

  it('gives new files and directories the caller\'s uid and gid', async () => {
    await sh(`mkdir -m 1777 ${mount.path('shared')}`);
    await sh(asUser(`echo mine > ${mount.path('shared/by-user')} && mkdir ${mount.path('shared/dir-by-user')}`));
    for (const p of ['shared/by-user', 'shared/dir-by-user']) {
      const st = statSync(mount.path(p));
      expect([st.uid, st.gid], p).toEqual([1234, 5678]);
    }
    const root = statSync(mount.path('shared'));
    expect([root.uid, root.gid]).toEqual([0, 0]);
  });

  it('refuses what the permission bits refuse', async () => {
    await sh(`mkdir -m 755 ${mount.path('rootonly')} && echo secret > ${mount.path('rootonly/f')} && chmod 600 ${mount.path('rootonly/f')}`);
    const fail = (cmd: string): Promise<string> => sh(asUser(cmd)).then(() => 'ok', (e: { stderr?: string }) => e.stderr ?? 'failed');
    expect(await fail(`touch ${mount.path('rootonly/new')}`)).toMatch(/Permission denied/);
    expect(await fail(`cat ${mount.path('rootonly/f')}`)).toMatch(/Permission denied/);
    // The sticky directory: another user's file cannot be removed.
    await sh(`echo r > ${mount.path('shared/by-root')}`);
    expect(await fail(`rm -f ${mount.path('shared/by-root')}`)).toMatch(/Operation not permitted/);
  });
});
