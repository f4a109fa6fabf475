/**
 * Directories delegated to a mount (client/vfs/delegated-dirs.ts, master/sessions/delegations.ts):
 * through real mounts of a real cluster, a mount answers mkdir, symlink, rename, unlink and rmdir
 * in a directory it holds, and chmod, chown and utimens of the files there, and the master ends with
 * exactly what it told its callers; another mount
 * sees those changes at once (its calls recall the delegation first); fsyncdir makes them durable;
 * a mount killed while holding a directory delays others by its lease at most; a restarted master
 * gets the changes of directories it forgot it had delegated.
 */
import { chmodSync, chownSync, closeSync, existsSync, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmdirSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuseMount, sh } from '../helpers/fuse-mount.js';
import { olderThan, waitFor } from '../helpers/probes.js';
import { masterCalls, metricsAddress } from '../helpers/metrics.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

/** fsync(2) of a directory through the mount (FUSE FSYNCDIR). */
function fsyncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What both mounts must agree on for one entry. */
function describeEntry(path: string): string {
  const st = lstatSync(path, { bigint: false });
  const target = st.isSymbolicLink() ? ` -> ${readlinkSync(path)}` : '';
  return `ino=${st.ino} mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} nlink=${st.nlink} size=${st.size} mtime=${st.mtimeMs} ctime=${st.ctimeMs}${target}`;
}

function describeTree(dir: string): string[] {
  return readdirSync(dir).sort().map((name) => `${name}: ${describeEntry(`${dir}/${name}`)}`);
}

/** fst-mount's default entry-timeout: how long the kernel and the mount trust a name (also the delegations' idle time). */
const ENTRY_TTL_MS = 1000;

describe('directories delegated to a mount', () => {
  let cluster: ProcessCluster;
  let a: FuseMount;
  let b: FuseMount;
  let masterMetrics: string;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--metrics-listen', '127.0.0.1:0'] });
    masterMetrics = metricsAddress(cluster.master.tail);
    a = await FuseMount.start(cluster.masterAddress);
    b = await FuseMount.start(cluster.masterAddress);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await cluster?.stop();
  });

  it('answers mkdir, symlink, rename, unlink and rmdir itself, and the master ends with exactly what it answered', async () => {
    const mkdirsBefore = await masterCalls(masterMetrics, 'Mkdir');
    const batchesBefore = await masterCalls(masterMetrics, 'ApplyChanges');
    const w = a.path('w');
    mkdirSync(w);
    for (let i = 0; i < 300; i++) {
      mkdirSync(`${w}/d${i}`, 0o750);
      symlinkSync(`target-${i}`, `${w}/l${i}`);
    }
    for (let i = 0; i < 100; i++) renameSync(`${w}/l${i}`, `${w}/r${i}`);
    for (let i = 0; i < 50; i++) unlinkSync(`${w}/r${i}`);
    for (let i = 0; i < 100; i++) rmdirSync(`${w}/d${i}`);
    mkdirSync(`${w}/d250/inner`);
    symlinkSync('deep', `${w}/d250/inner/link`);
    fsyncDir(w);

    // Most of it never waited for the master: it went in batches.
    expect(await masterCalls(masterMetrics, 'ApplyChanges')).toBeGreaterThan(batchesBefore);
    expect((await masterCalls(masterMetrics, 'Mkdir')) - mkdirsBefore).toBeLessThan(150);

    // The other mount reads the master: every name, inode number, mode, owner, link count, size,
    // time and target is what the first mount told its callers.
    const seenByA = describeTree(w);
    expect(seenByA).toHaveLength(200 + 300 - 50);
    expect(describeTree(b.path('w'))).toEqual(seenByA);
    expect(describeEntry(b.path('w'))).toBe(describeEntry(w));
    expect(describeTree(b.path('w/d250/inner'))).toEqual(describeTree(`${w}/d250/inner`));
    expect(readlinkSync(b.path('w/r60'))).toBe('target-60');
    expect(lstatSync(b.path('w/d200')).mode & 0o7777).toBe(0o750);
  });

  it('shows nlink 0 through a descriptor of a file unlinked after it was renamed here', () => {
    // The rename is answered under the delegation, so the new name is known only from the
    // listing; the unlink (an open file: the master's) must still drop the cached attributes.
    const d = a.path('renamed-then-unlinked');
    mkdirSync(d);
    writeFileSync(`${d}/f`, 'x');
    renameSync(`${d}/f`, `${d}/g`);
    const fd = openSync(`${d}/g`, 'r+');
    try {
      expect(fstatSync(fd).nlink).toBe(1);
      unlinkSync(`${d}/g`);
      expect(fstatSync(fd).nlink).toBe(0);
      expect(readdirSync(d)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });

  /**
   * `rm -rf name` through mount a; the calls of `methods` the master answered meanwhile. The other
   * mount then sees the tree gone.
   */
  async function removedHere(name: string, methods: string[]): Promise<number> {
    const calls = async (): Promise<number> => {
      let n = 0;
      for (const m of methods) n += await masterCalls(masterMetrics, m);
      return n;
    };
    const before = await calls();
    await sh(`rm -rf ${name}`, a.dir);
    expect(existsSync(a.path(name))).toBe(false);
    const made = (await calls()) - before;
    fsyncDir(a.dir);
    await waitFor('the other mount to see the tree gone', () => !existsSync(b.path(name)));
    return made;
  }

  it('removes a tree with rm -r answering the removals itself, from the first in each directory', async () => {
    // Made by the other mount, so that this one holds none of it: it asks for each directory as it
    // lists it while removing, and waits for that answer rather than remove through the master.
    const dirs = 12;
    mkdirSync(b.path('gone'));
    for (let i = 0; i < dirs; i++) {
      mkdirSync(b.path(`gone/d${i}`));
      for (let j = 0; j < 6; j++) writeFileSync(b.path(`gone/d${i}/f${j}`), `${i}.${j}`);
    }
    expect((await sh('find gone -type f', a.dir)).trim().split('\n')).toHaveLength(dirs * 6);
    // Asking the master for the first removal in each directory would be 1 + 7 per directory.
    expect(await removedHere('gone', ['Unlink', 'Rmdir'])).toBeLessThan(dirs / 2);
  });

  it('removes a tree listed a while ago with rm -r asking ahead for the directories it will empty', async () => {
    // Listed here, then left alone past the entry TTL and the delegations' idle time: the kernel
    // serves the listings from its own cache and asks again for every name, and this mount holds
    // nothing. The first removal asks for its directory; each directory granted during the removal
    // brings its subdirectories' grants before `rm` reaches them.
    const top = 4;
    const sub = 4;
    mkdirSync(b.path('old'));
    for (let i = 0; i < top; i++) {
      for (let j = 0; j < sub; j++) {
        mkdirSync(b.path(`old/d${i}/e${j}`), { recursive: true });
        for (let k = 0; k < 5; k++) writeFileSync(b.path(`old/d${i}/e${j}/f${k}`), `${i}.${j}.${k}`);
      }
      writeFileSync(b.path(`old/d${i}/g`), `${i}`);
    }
    const dirs = 1 + top + top * sub;
    expect((await sh('find old -type f', a.dir)).trim().split('\n')).toHaveLength(top * sub * 5 + top);
    await olderThan(Date.now(), 2.5 * ENTRY_TTL_MS, 'the names listed to outlive the entry TTL and the delegations their idle time');
    // Asking the master in each directory until it is granted costs a lookup and a removal or more
    // per directory (39 calls here without asking ahead); only the first directories reached need it.
    expect(await removedHere('old', ['Unlink', 'Rmdir', 'Lookup'])).toBeLessThan(dirs / 2);
  });

  it('lists a hard link with its new link count right after the other name was removed here', () => {
    // The removal is answered here and reaches the master in a batch a few milliseconds later; a
    // listing of the other directory read meanwhile (its attributes cached by the kernel from
    // READDIRPLUS) must not show the master's count from before it.
    mkdirSync(a.path('hl'));
    mkdirSync(a.path('hl/a'));
    mkdirSync(a.path('hl/c'));
    for (let i = 0; i < 20; i++) {
      writeFileSync(a.path(`hl/a/f${i}`), 'x');
      linkSync(a.path(`hl/a/f${i}`), a.path(`hl/c/g${i}`));
      unlinkSync(a.path(`hl/a/f${i}`));
      expect(readdirSync(a.path('hl/c'))).toContain(`g${i}`);
      expect(lstatSync(a.path(`hl/c/g${i}`)).nlink).toBe(1);
    }
  });

  it('shows another mount each change at once (its calls recall the directory), then gives way to it', async () => {
    const w = a.path('w2');
    mkdirSync(w);
    for (let i = 0; i < 50; i++) mkdirSync(`${w}/x${i}`);
    for (let i = 0; i < 20; i++) symlinkSync('t', `${w}/s${i}`);
    // No waiting: the other mount's first listing and lookups wait for these to reach the master.
    expect(readdirSync(b.path('w2'))).toHaveLength(70);
    expect(lstatSync(b.path('w2/x49')).isDirectory()).toBe(true);
    expect(readlinkSync(b.path('w2/s19'))).toBe('t');
    // A name made by the other mount is not made twice, whichever mount asks.
    mkdirSync(b.path('w2/from-b'));
    expect(() => mkdirSync(`${w}/from-b`)).toThrow(/EEXIST/);
    rmdirSync(b.path('w2/x3'));
    await waitFor('the removal on one mount to show on the other', () => readdirSync(w).includes('x3') === false);
    expect(() => rmdirSync(`${w}/x3`)).toThrow(/ENOENT/);
    expect(readdirSync(b.path('w2')).sort()).toEqual(readdirSync(w).sort());
  });

  it('answers chmod, chown and utimens of files in a directory it holds; another mount sees each at once, and its writes are kept', async () => {
    const w = a.path('attrs');
    mkdirSync(w);
    const n = 40;
    for (let i = 0; i < n; i++) writeFileSync(`${w}/f${i}`, `file ${i}`);
    // The other mount opens f0 now: its write later reaches the master by inode alone, with no name looked up.
    const fdB = openSync(b.path('attrs/f0'), 'r+');
    try {
      /** Changes f1..f(n-1) on the first mount until a whole round of them reaches the master as no SetAttr. */
      const answeredHere = (change: (path: string, i: number) => void) => waitFor('attribute changes answered by the mount', async () => {
        const before = await masterCalls(masterMetrics, 'SetAttr');
        for (let i = 1; i < n; i++) change(`${w}/f${i}`, i);
        return (await masterCalls(masterMetrics, 'SetAttr')) === before;
      });
      await answeredHere((p) => chmodSync(p, 0o640));
      const time = new Date('2001-02-03T04:05:06Z');
      for (let i = 1; i < n; i++) {
        chmodSync(`${w}/f${i}`, i < 5 ? 0o4755 : 0o600 + (i % 8));
        utimesSync(`${w}/f${i}`, time, time);
      }
      // chown drops setuid, as on Linux.
      for (let i = 1; i < 5; i++) chownSync(`${w}/f${i}`, 1000 + i, 2000 + i);
      // The other mount looks at these files for the first time: what the first mount answered, at once.
      for (let i = 1; i < n; i++) {
        const mine = lstatSync(`${w}/f${i}`);
        const theirs = lstatSync(b.path(`attrs/f${i}`));
        expect(theirs.mode & 0o7777, `f${i}`).toBe(i < 5 ? 0o755 : 0o600 + (i % 8));
        expect([theirs.uid, theirs.gid], `f${i}`).toEqual(i < 5 ? [1000 + i, 2000 + i] : [0, 0]);
        expect([theirs.mode, theirs.uid, theirs.gid, theirs.size, theirs.mtimeMs, theirs.atimeMs, theirs.ctimeMs], `f${i}`)
          .toEqual([mine.mode, mine.uid, mine.gid, mine.size, time.getTime(), time.getTime(), mine.ctimeMs]);
      }

      // Held again with its files' attributes; the other mount writes f0 through its descriptor: the
      // commit recalls the directory, and the first mount's next chmod of f0 shows the new size.
      await answeredHere((p, i) => chmodSync(p, 0o600 + (i % 8)));
      const text = 'written by the other mount, longer than before';
      writeSync(fdB, text, 0);
      fsyncSync(fdB);
      chmodSync(`${w}/f0`, 0o604);
      expect(statSync(`${w}/f0`).size).toBe(text.length);
    } finally {
      closeSync(fdB);
    }
  });

  it('makes what fsyncdir covered survive a kill -9 of the mount', async () => {
    const c = await FuseMount.start(cluster.masterAddress);
    try {
      const w = c.path('w3');
      mkdirSync(w);
      for (let i = 0; i < 200; i++) mkdirSync(`${w}/k${i}`);
      for (let i = 0; i < 100; i++) rmdirSync(`${w}/k${i}`);
      fsyncDir(w);
      // fsync of a file covers them too.
      for (let i = 0; i < 20; i++) mkdirSync(`${w}/m${i}`);
      const fd = openSync(c.path('synced-file'), 'w');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      await c.process.kill();
    } finally {
      await c.stop();
    }
    const names = readdirSync(b.path('w3'));
    expect(names.filter((n) => n.startsWith('k')).every((n) => Number(n.slice(1)) >= 100)).toBe(true);
    expect(names.sort()).toEqual([...Array.from({ length: 100 }, (_, i) => `k${i + 100}`), ...Array.from({ length: 20 }, (_, i) => `m${i}`)].sort());
  });

  it('lets others change a directory held by a mount that was killed, once its lease runs out', async () => {
    const c = await FuseMount.start(cluster.masterAddress);
    try {
      mkdirSync(c.path('w4'));
      for (let i = 0; i < 50; i++) mkdirSync(c.path(`w4/k${i}`));
      fsyncDir(c.path('w4'));
      await c.process.kill();
    } finally {
      await c.stop();
    }
    mkdirSync(b.path('w4/after'));
    expect(readdirSync(b.path('w4'))).toHaveLength(51);
  });

  it('sends changes made across a master restart to the new master', async () => {
    const w = a.path('w5');
    mkdirSync(w);
    for (let i = 0; i < 50; i++) mkdirSync(`${w}/before${i}`);
    fsyncDir(w);
    await cluster.restartMaster('term');
    for (let i = 0; i < 50; i++) mkdirSync(`${w}/after${i}`);
    fsyncDir(w);
    expect(readdirSync(b.path('w5'))).toHaveLength(100);
    expect(describeTree(b.path('w5'))).toEqual(describeTree(w));
  });

  it('after a master restart, stops answering in the directories it held before another mount changes them', async () => {
    const w = a.path('w6');
    mkdirSync(w);
    for (let i = 0; i < 50; i++) mkdirSync(`${w}/k${i}`);
    await cluster.restartMaster('term');
    // The new master forgot the delegation; the other mount's change waits out the old one's trust.
    mkdirSync(b.path('w6/from-b'));
    expect(() => mkdirSync(`${w}/from-b`)).toThrow(/EEXIST/);
    fsyncDir(w);
    expect(describeTree(b.path('w6'))).toEqual(describeTree(w));
    expect(readdirSync(w)).toHaveLength(51);
  });
});
