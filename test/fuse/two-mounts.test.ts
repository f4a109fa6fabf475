/**
 * Close-to-open consistency between two mounts of one cluster: what one writes and closes, the
 * other sees (content and size) when it opens the file; the mount process lifecycle (SIGTERM
 * flushes and unmounts; `fusermount -u` from outside stops it).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuseMount, isMounted, sh } from '../helpers/fuse-mount.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

describe('two mounts of one cluster', () => {
  let cluster: ProcessCluster;
  let a: FuseMount;
  let b: FuseMount;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    a = await FuseMount.start(cluster.masterAddress);
    b = await FuseMount.start(cluster.masterAddress);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await cluster?.stop();
  });

  it('shows a file written and closed on one mount, with new content and size, on the other', async () => {
    writeFileSync(a.path('shared.txt'), 'first version');
    expect(readFileSync(b.path('shared.txt'), 'utf8')).toBe('first version');
    writeFileSync(a.path('shared.txt'), 'second, longer version');
    expect(readFileSync(b.path('shared.txt'), 'utf8')).toBe('second, longer version');
    await sh(`head -c 5000000 /dev/urandom > ${a.path('bin')}`);
    expect(await sh(`sha256sum < ${b.path('bin')}`)).toBe(await sh(`sha256sum < ${a.path('bin')}`));
    expect(statSync(b.path('bin')).size).toBe(5_000_000);
  });

  it('flushes and unmounts on SIGTERM, and stops when unmounted from outside', async () => {
    const c = await FuseMount.start(cluster.masterAddress);
    writeFileSync(c.path('before-term'), 'kept');
    expect(await c.process.stop()).toBe(0);
    expect(await isMounted(c.dir)).toBe(false);
    expect(readFileSync(a.path('before-term'), 'utf8')).toBe('kept');
    await c.stop();

    const d = await FuseMount.start(cluster.masterAddress);
    await sh(`fusermount -u ${d.dir}`);
    await waitFor('the mount process to exit', () => !d.process.running);
    await d.stop();
  });

  it('refuses to mount when the master does not answer, with a clear message', async () => {
    const r = await sh(`node bin/fst-mount.js --master 127.0.0.1:1 /tmp/fst-never-mounted --foreground 2>&1; echo "exit=$?"`, process.cwd());
    expect(r).toMatch(/fst-mount: cannot mount .*127\.0\.0\.1:1/);
    expect(r).toMatch(/exit=1/);
  });
});
