/**
 * Tree walks through a real mount of a real cluster: the first pages of the subdirectories a
 * listing names are read ahead in one ReaddirMany call (client/vfs/listing-read-ahead.ts), and what
 * the walker sees stays right: every entry once, and a directory this mount changed (or changed the
 * attributes of something in) after reading it ahead listed afresh.
 */
import { appendFileSync, chmodSync, closeSync, linkSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuseMount, sh } from '../helpers/fuse-mount.js';
import { masterCalls, metricsAddress } from '../helpers/metrics.js';
import { olderThan } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

describe('tree walks', () => {
  let cluster: ProcessCluster;
  let a: FuseMount;
  let masterMetrics: string;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--metrics-listen', '127.0.0.1:0'] });
    masterMetrics = metricsAddress(cluster.master.tail);
    a = await FuseMount.start(cluster.masterAddress);
  });
  afterAll(async () => {
    await a?.stop();
    await cluster?.stop();
  });

  it('lists a tree with its subdirectories read ahead: every entry once, in fewer Readdir calls than directories', async () => {
    // Made through the same mount: directories another mount holds delegated are not read ahead
    // (that would recall them), while this mount's own are.
    const expected = ['t'];
    mkdirSync(a.path('t'));
    for (let i = 0; i < 6; i++) {
      mkdirSync(a.path(`t/d${i}`));
      expected.push(`t/d${i}`);
      for (let j = 0; j < 4; j++) {
        mkdirSync(a.path(`t/d${i}/e${j}`));
        writeFileSync(a.path(`t/d${i}/e${j}/f`), `${i}.${j}`);
        expected.push(`t/d${i}/e${j}`, `t/d${i}/e${j}/f`);
      }
    }
    const dirs = 1 + 6 + 6 * 4;
    const readdirs = await masterCalls(masterMetrics, 'Readdir');
    const aheads = await masterCalls(masterMetrics, 'ReaddirMany');
    const found = (await sh('find t', a.dir)).trim().split('\n').sort();
    expect(found).toEqual(expected.sort());
    expect(await masterCalls(masterMetrics, 'ReaddirMany')).toBeGreaterThan(aheads);
    expect((await masterCalls(masterMetrics, 'Readdir')) - readdirs).toBeLessThan(dirs);
  });

  it('reads a tree walked again after the kernel forgot it ahead as the first time, not one directory at a time', async () => {
    mkdirSync(a.path('again'));
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 3; j++) {
        mkdirSync(a.path(`again/d${i}/e${j}`), { recursive: true });
        writeFileSync(a.path(`again/d${i}/e${j}/f`), `${i}.${j}`);
      }
    }
    const entries = 1 + 5 + 5 * 3 * 2;
    expect((await sh('find again', a.dir)).trim().split('\n')).toHaveLength(entries);
    // The first walk leaves every listing it read kept for a reopening; past their age limit (half
    // fst-mount's default entry TTL of 1 s) they are of no use, and the second walk must ask ahead
    // for them again.
    await olderThan(Date.now(), 1000, 'the listings kept from the first walk to pass their age limit');
    // The kernel forgets its dentries, inodes and cached listings: the walk reaches fst-mount again.
    writeFileSync('/proc/sys/vm/drop_caches', '2');
    const readdirs = await masterCalls(masterMetrics, 'Readdir');
    expect((await sh('find again', a.dir)).trim().split('\n')).toHaveLength(entries);
    // Only the top of the walk is read alone (6 calls when stale pages kept the subdirectories of
    // the top from being asked for again: each was then read alone, its subtree asked for late).
    expect((await masterCalls(masterMetrics, 'Readdir')) - readdirs).toBeLessThanOrEqual(2);
  });

  it('lists a directory opened again at once from the listing just read, and afresh after a change', async () => {
    mkdirSync(a.path('twice'));
    for (let i = 0; i < 5; i++) writeFileSync(a.path(`twice/f${i}`), 'x');
    const readdirs = await masterCalls(masterMetrics, 'Readdir');
    // rm -r opens every directory twice (once to see whether it is empty).
    expect(readdirSync(a.path('twice'))).toHaveLength(5);
    expect(readdirSync(a.path('twice'))).toHaveLength(5);
    expect((await masterCalls(masterMetrics, 'Readdir')) - readdirs).toBe(1);
    writeFileSync(a.path('twice/new'), 'y');
    expect(readdirSync(a.path('twice'))).toHaveLength(6);
  });

  it('lists afresh a directory it changed after reading it ahead', async () => {
    mkdirSync(a.path('p'));
    mkdirSync(a.path('p/s'));
    writeFileSync(a.path('p/s/old'), 'x');
    // Listing p reads p/s ahead; then this mount adds to p/s, and p/s must show it.
    expect(readdirSync(a.path('p'))).toEqual(['s']);
    writeFileSync(a.path('p/s/new-file'), 'y');
    mkdirSync(a.path('p/s/new-dir'));
    expect(readdirSync(a.path('p/s')).sort()).toEqual(['new-dir', 'new-file', 'old']);
  });

  it('lists afresh a directory whose entries this mount changed after reading it ahead (mode, size, links)', async () => {
    mkdirSync(a.path('q'));
    mkdirSync(a.path('q/s'));
    writeFileSync(a.path('q/s/f'), 'x');
    // Listing q reads q/s ahead, with f as it is now; then f changes without q/s changing.
    expect(readdirSync(a.path('q'))).toEqual(['s']);
    chmodSync(a.path('q/s/f'), 0o600);
    appendFileSync(a.path('q/s/f'), 'more');
    linkSync(a.path('q/s/f'), a.path('q/elsewhere'));
    // ls -l takes the attributes from the listing (readdirplus): they must be the new ones.
    const line = (await sh('ls -ln q/s', a.dir)).split('\n').find((l) => l.endsWith(' f'));
    expect(line).toMatch(/^-rw------- 2 \d+ \d+ 5 /);
  });

  it('lists a directory read ahead with the size of a file this mount is writing in it', async () => {
    mkdirSync(a.path('w'));
    mkdirSync(a.path('w/s'));
    writeFileSync(a.path('w/s/f'), 'x');
    expect(readdirSync(a.path('w'))).toEqual(['s']);
    // Written and still open: its size is ahead of what the master said when w/s was read ahead.
    const fd = openSync(a.path('w/s/f'), 'r+');
    try {
      writeSync(fd, 'longer now', 0);
      const line = (await sh('ls -ln w/s', a.dir)).split('\n').find((l) => l.endsWith(' f'));
      expect(line).toMatch(/^-\S+ 1 \d+ \d+ 10 /);
    } finally {
      closeSync(fd);
    }
  });
});
