/**
 * Close-to-open consistency between two mounts of one cluster: what one writes and closes, the
 * other sees (content and size) when it opens the file, also where the kernel keeps an unchanged
 * file's pages across opens; the mount process lifecycle (SIGTERM
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

  it('keeps the kernel\'s pages of an unchanged file across opens, and drops them when another mount changed it', async () => {
    const size = 3 * 1024 * 1024;
    await sh(`head -c ${size} /dev/urandom > ${a.path('kept.bin')}`);
    const first = await sh(`sha256sum < ${a.path('kept.bin')}`);
    // b reads it twice: the second open keeps the pages the first read cached.
    expect(await sh(`sha256sum < ${b.path('kept.bin')}`)).toBe(first);
    expect(await sh(`sha256sum < ${b.path('kept.bin')}`)).toBe(first);
    // a rewrites it in place, the same size; b's next open must drop its pages.
    for (let round = 0; round < 3; round++) {
      await sh(`head -c ${size} /dev/urandom | dd of=${a.path('kept.bin')} conv=notrunc status=none`);
      const now = await sh(`sha256sum < ${a.path('kept.bin')}`);
      expect(now).not.toBe(first);
      expect(await sh(`sha256sum < ${b.path('kept.bin')}`)).toBe(now);
      // Only one block changes: the pages of the rest must not outlive the change either.
      await sh(`printf 'Z%.0s' $(seq 1 100) | dd of=${a.path('kept.bin')} bs=1 seek=${1024 * 1024 + 7} conv=notrunc status=none`);
      expect(await sh(`sha256sum < ${b.path('kept.bin')}`)).toBe(await sh(`sha256sum < ${a.path('kept.bin')}`));
    }
    // A change b makes itself, then one a makes, each seen by the other at its next open.
    await sh(`printf 'from b' | dd of=${b.path('kept.bin')} conv=notrunc status=none`);
    expect(await sh(`head -c 6 ${a.path('kept.bin')}`)).toBe('from b');
    await sh(`printf 'from a' | dd of=${a.path('kept.bin')} conv=notrunc status=none`);
    expect(await sh(`head -c 6 ${b.path('kept.bin')}`)).toBe('from a');
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
