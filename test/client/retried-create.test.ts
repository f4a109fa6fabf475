/**
 * A create whose answer is lost (the master applied it, then the connection went: a master killed
 * or cut off just after its commit) is retried by the client and meets its own entry: EEXIST. The
 * client recognises the entry as its own and answers success, for files (O_EXCL), directories and
 * symlinks; an entry somebody else made stays EEXIST. Likewise a retried unlink or rmdir that finds
 * the name gone, a rename that finds the old name gone and the new one there, and a link whose new
 * name names its inode. A real master (plaintext, so the test can see
 * the frames' method names) behind a TCP proxy that, once per armed method, lets the request
 * through and drops the connection instead of passing the answer back.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MetaClient } from '../../src/client/meta-client.js';
import { toFsError } from '../../src/common/errors/to-errno.js';
import { ROOT_INO } from '../../src/common/ids.js';
import { fst } from '../../src/client/types.js';
import { Cleanup } from '../helpers/cleanup.js';
import { startProcessCluster } from '../helpers/process-cluster.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Proxies to `target`; `arm(method)` makes the next answer to a request naming it vanish with its connection. */
async function answerDropper(target: string): Promise<{ address: string; arm(method: string): void; dropped(): number; close(): Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  let armed: string | undefined;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    let victim = false;
    inbound.on('data', (b: Buffer) => {
      if (armed && b.includes(Buffer.from(`/${armed}`))) {
        armed = undefined;
        victim = true;
      }
      outbound.write(b);
    });
    outbound.on('data', (b: Buffer) => {
      if (victim) {
        // The request was applied; its answer never arrives.
        dropped++;
        inbound.destroy();
        outbound.destroy();
        return;
      }
      inbound.write(b);
    });
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    arm: (method) => void (armed = method),
    dropped: () => dropped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A master, a MetaClient through the answer dropper, and one straight to the master. */
async function throughDropper(): Promise<{ proxy: Awaited<ReturnType<typeof answerDropper>>; meta: MetaClient; direct: MetaClient }> {
  const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 1, replication: 1, masterArgs: ['--insecure'] }));
  const proxy = await answerDropper(cluster.masterAddress);
  cleanup.add(() => proxy.close());
  const meta = new MetaClient(proxy.address, { retryForMs: 10_000, timeoutMs: 10_000 });
  cleanup.add(() => meta.close());
  const direct = new MetaClient(cluster.masterAddress);
  cleanup.add(() => direct.close());
  return { proxy, meta, direct };
}

describe('a create retried after its answer was lost', () => {
  it('is recognised as this call\'s own entry, and only then', async () => {
    const { proxy, meta, direct } = await throughDropper();
    const caller = { uid: 0, gid: 0, groups: [] };

    proxy.arm('Mknod');
    const file = await meta.mknod(ROOT_INO, 'file', 0o640, { exclusive: true }, { caller });
    expect(proxy.dropped()).toBe(1);
    expect(file.created).toBe(true);
    expect(file.attr.ino).toBe((await direct.lookup(ROOT_INO, 'file')).ino);

    proxy.arm('Mkdir');
    const dir = await meta.mkdir(ROOT_INO, 'dir', 0o750, { caller });
    expect(proxy.dropped()).toBe(2);
    expect(dir.attr.type).toBe(fst.FileType.DIRECTORY);

    proxy.arm('Symlink');
    const link = await meta.symlink(ROOT_INO, 'link', 'file', { caller });
    expect(proxy.dropped()).toBe(3);
    expect(await direct.readlink(link.attr.ino)).toBe('file');

    // Somebody else's entry (another mode) is not taken for this call's own.
    await direct.mknod(ROOT_INO, 'theirs', 0o600, { exclusive: true }, { caller });
    proxy.arm('Mknod');
    const refused = await meta.mknod(ROOT_INO, 'theirs', 0o640, { exclusive: true }, { caller }).then(() => 'created', (e: unknown) => toFsError(e).code);
    expect(proxy.dropped()).toBe(4);
    expect(refused).toBe('EEXIST');
    // And without a lost answer, EEXIST is EEXIST even for an entry that would match.
    const plain = await meta.mknod(ROOT_INO, 'file', 0o640, { exclusive: true }, { caller }).then(() => 'created', (e: unknown) => toFsError(e).code);
    expect(plain).toBe('EEXIST');
  });

  it('takes a removal, a rename or a link retried after its answer was lost for done when it finds it done, and only then', async () => {
    const { proxy, meta, direct } = await throughDropper();
    const caller = { uid: 0, gid: 0, groups: [] };
    const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => toFsError(e).code);
    const gone = (name: string): Promise<string> => code(direct.lookup(ROOT_INO, name));
    const a = (await direct.mknod(ROOT_INO, 'a', 0o644, { exclusive: true }, { caller })).attr.ino;
    await direct.mknod(ROOT_INO, 'b', 0o644, { exclusive: true }, { caller });
    await direct.mkdir(ROOT_INO, 'd', 0o755, { caller });

    proxy.arm('Unlink');
    expect((await meta.unlink(ROOT_INO, 'b', { caller })).nlink).toBe(0);
    expect(proxy.dropped()).toBe(1);
    expect(await gone('b')).toBe('ENOENT');

    proxy.arm('Rmdir');
    await meta.rmdir(ROOT_INO, 'd', { caller });
    expect(proxy.dropped()).toBe(2);
    expect(await gone('d')).toBe('ENOENT');

    proxy.arm('Rename');
    await meta.rename(ROOT_INO, 'a', ROOT_INO, 'a2', false, { caller });
    expect(proxy.dropped()).toBe(3);
    expect((await direct.lookup(ROOT_INO, 'a2')).ino).toBe(a);
    expect(await gone('a')).toBe('ENOENT');

    proxy.arm('Link');
    const linked = await meta.link(a, ROOT_INO, 'a3', { caller });
    expect(proxy.dropped()).toBe(4);
    expect(linked.attr).toMatchObject({ ino: a, nlink: 2 });

    // A name that holds another inode is not this call's link; a rename whose new name is not
    // there did not happen; and without a lost answer, ENOENT is ENOENT.
    await direct.mknod(ROOT_INO, 'other', 0o644, { exclusive: true }, { caller });
    proxy.arm('Link');
    expect(await code(meta.link(a, ROOT_INO, 'other', { caller }))).toBe('EEXIST');
    expect(proxy.dropped()).toBe(5);
    proxy.arm('Rename');
    expect(await code(meta.rename(ROOT_INO, 'never', ROOT_INO, 'nowhere', false, { caller }))).toBe('ENOENT');
    expect(proxy.dropped()).toBe(6);
    expect(await code(meta.unlink(ROOT_INO, 'never', { caller }))).toBe('ENOENT');
  });

  it('applies a mount\'s batch of changes sent again after its answer was lost once, and only the changes it numbered', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 1, replication: 1, masterArgs: ['--insecure'] }));
    const proxy = await answerDropper(cluster.masterAddress);
    cleanup.add(() => proxy.close());
    const caller = { uid: 0, gid: 0, groups: [] };
    const meta = new MetaClient(proxy.address, { retryForMs: 10_000, timeoutMs: 10_000, session: 'retry-test', caller });
    cleanup.add(() => meta.close());
    const dir = await meta.mkdir(ROOT_INO, 'delegated', 0o755, { caller });
    const grant = await meta.delegate([dir.attr.ino], [], 4);
    expect(grant.granted.length).toBe(1);
    const now = { sec: Math.floor(Date.now() / 1000), nsec: 0 };
    const changes = [
      { mkdir: { parent: dir.attr.ino, name: 'sub', mode: 0o755, caller }, ino: grant.firstIno, time: now },
      { symlink: { parent: dir.attr.ino, name: 'ln', target: 'sub', caller }, ino: grant.firstIno + 1, time: now },
    ];
    proxy.arm('ApplyChanges');
    const applied = await meta.applyChanges(changes);
    expect(proxy.dropped()).toBe(1);
    expect(applied.failures).toEqual([]);
    expect((await meta.lookup(dir.attr.ino, 'sub')).ino).toBe(grant.firstIno);
    // A change naming an entry that holds another inode still fails.
    const other = await meta.applyChanges([{ mkdir: { parent: dir.attr.ino, name: 'sub', mode: 0o755, caller }, ino: grant.firstIno + 2, time: now }]);
    expect(other.failures.map((f) => f.error.code)).toEqual(['EEXIST']);
  });
});
