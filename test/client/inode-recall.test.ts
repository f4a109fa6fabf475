/**
 * A call about an inode recalls the directories naming it that another session holds
 * (master/rpc/master-service.ts `aboutIno`, dentries_by_ino): the holder may have answered
 * attribute changes of the inode itself and not sent them yet. Real master, two sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaClient } from '../../src/client/meta-client.js';
import { fst } from '../../src/proto-gen/fst.js';
import { startRealCluster, type RealCluster } from './real-cluster.js';
import { masterTls } from '../helpers/credentials.js';

const root = { uid: 0, gid: 0, groups: [] };

describe('calls about an inode in a directory another session holds', () => {
  let cluster: RealCluster;
  let holder: MetaClient;
  let other: MetaClient;
  beforeAll(async () => {
    cluster = await startRealCluster({ chunkservers: 1, replication: 1 });
    holder = new MetaClient(cluster.address, { tls: await masterTls(cluster.address), session: 'holder', caller: root });
    other = new MetaClient(cluster.address, { tls: await masterTls(cluster.address), session: 'other', caller: root });
  });
  afterAll(async () => {
    holder?.close();
    other?.close();
    await cluster?.stop();
  });

  it('wait for the holder to send its changes and give the directory back, then see them', async () => {
    const dir = (await holder.mkdir(1, 'held', 0o755)).attr.ino;
    const file = (await holder.mknod(dir, 'f', 0o644)).attr.ino;
    const grant = await holder.delegate([dir], [], 0);
    // Nobody else was changing an inode: the holder may keep its files' attributes as exact.
    expect(grant.granted).toEqual([{ dir, changeSeq: expect.any(Number), attrs: true }]);

    // A chmod the holder answered itself and has not sent: another session's stat by inode
    // alone (no name in the directory) recalls the directory and waits.
    const recall = holder.awaitRecall(30_000);
    const seen = other.getAttr(file);
    expect((await recall).recalled).toEqual([dir]);
    const time = { sec: 1_700_000_000, nsec: 0 };
    const sent = await holder.applyChanges([{
      setattr: { ino: file, fields: fst.SetAttrField.SET_ATTR_MODE, mode: 0o600, caller: root }, parent: dir, ino: file, time,
    }]);
    expect(sent.failures).toEqual([]);
    await holder.delegate([], [dir], 0);
    const attr = await seen;
    expect(attr.mode & 0o7777).toBe(0o600);
    // The change carries the time the holder told its caller.
    expect(attr.ctime).toEqual(time);
  });

  it('recall before a write commit, a link and an xattr change of the inode', async () => {
    const dir = (await holder.mkdir(1, 'held2', 0o755)).attr.ino;
    const file = (await holder.mknod(dir, 'f', 0o644)).attr.ino;
    const elsewhere = (await other.mkdir(1, 'elsewhere', 0o755)).attr.ino;
    const calls: [string, () => Promise<unknown>][] = [
      ['WriteInline', () => other.writeInline(file, Buffer.from('by the other session'))],
      ['Link', () => other.link(file, elsewhere, 'second-name')],
      ['SetXattr', () => other.setXattr(file, 'user.x', Buffer.from('1'))],
    ];
    for (const [what, call] of calls) {
      expect((await holder.delegate([dir], [], 0)).granted.map((g) => g.dir), what).toEqual([dir]);
      const recall = holder.awaitRecall(30_000);
      const done = call();
      expect((await recall).recalled, what).toEqual([dir]);
      await holder.delegate([], [dir], 0);
      await done;
    }
    const attr = await holder.getAttr(file);
    expect(attr.size).toBe('by the other session'.length);
    expect(attr.nlink).toBe(2);
    expect(attr.hasXattrs).toBe(true);
  });

  it('refuse a queued size change', async () => {
    const dir = (await holder.mkdir(1, 'held3', 0o755)).attr.ino;
    const file = (await holder.mknod(dir, 'f', 0o644)).attr.ino;
    await holder.delegate([dir], [], 0);
    const r = await holder.applyChanges([{
      setattr: { ino: file, fields: fst.SetAttrField.SET_ATTR_SIZE, size: 10, caller: root }, parent: dir, ino: file, time: { sec: 1, nsec: 0 },
    }]);
    expect(r.failures.map((f) => f.error.code)).toEqual(['EINVAL']);
    expect((await holder.getAttr(file)).size).toBe(0);
    await holder.delegate([], [dir], 0);
  });
});
