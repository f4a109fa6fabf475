/**
 * The mount through the shell and node:fs, as people use it: copies in and out, listings, stat
 * fields, renames, links, permissions, times and truncation — on a real fst-mount process over a
 * real cluster.
 */
import {
  closeSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, statSync, symlinkSync,
  unlinkSync, writeFileSync, type BigIntStats,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaClient } from '../../src/client/meta-client.js';
import type { Timespec } from '../../src/client/types.js';
import { MountedCluster, sh, type FuseMount } from '../helpers/fuse-mount.js';
import { masterTls } from '../helpers/credentials.js';

describe('mount: POSIX through the shell', () => {
  let env: MountedCluster;
  let mount: FuseMount;
  let local: string;
  beforeAll(async () => {
    env = await MountedCluster.start();
    ({ mount, local } = env);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('copies a tree in and out with cp -a, identical by diff -r', async () => {
    const src = join(local, 'src');
    await sh(`mkdir -p ${src}/a/b/c ${src}/empty && head -c 300000 /dev/urandom > ${src}/a/blob && echo hello > ${src}/a/b/hi.txt &&
      for i in $(seq 1 40); do echo "line $i" > ${src}/a/b/c/f$i; done && ln -s ../hi.txt ${src}/a/b/c/link && chmod 640 ${src}/a/b/hi.txt &&
      touch -d '2001-02-03 04:05:06' ${src}/a/blob`);
    await sh(`cp -a ${src} ${mount.path('tree')}`);
    await sh(`diff -r ${src} ${mount.path('tree')}`);
    await sh(`cp -a ${mount.path('tree')} ${join(local, 'back')}`);
    await sh(`diff -r ${src} ${join(local, 'back')}`);
    const listing = await sh(`ls -l --time-style=+%s ${mount.path('tree/a')}`);
    expect(listing).toMatch(/-rw-r--r-- 1 root root 300000 981173106 blob/);
    expect(readFileSync(mount.path('tree/a/b/hi.txt'), 'utf8')).toBe('hello\n');
    expect(await sh(`cat ${mount.path('tree/a/b/c/link')}`)).toBe('hello\n');
    expect(statSync(mount.path('tree/a/b/hi.txt')).mode & 0o777).toBe(0o640);
  });

  it('reports stat fields: type, size, blocks, nlink, stable 64-bit inode numbers that survive rename', async () => {
    writeFileSync(mount.path('s.txt'), 'x'.repeat(5000));
    const st = statSync(mount.path('s.txt'), { bigint: true });
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(5000n);
    expect(st.blocks).toBeGreaterThanOrEqual(10n);
    expect(st.nlink).toBe(1n);
    await sh(`mkdir -p ${mount.path('d1')} && mv ${mount.path('s.txt')} ${mount.path('d1/t.txt')}`);
    expect(statSync(mount.path('d1/t.txt'), { bigint: true }).ino).toBe(st.ino);
    const dir = statSync(mount.path('d1'));
    expect(dir.isDirectory()).toBe(true);
    expect(dir.nlink).toBe(2);
  });

  it('moves within and across directories and over an existing file', async () => {
    await sh(`cd ${mount.dir} && mkdir -p mv/a mv/b && echo one > mv/a/1 && echo two > mv/a/2 &&
      mv mv/a/1 mv/a/1b && mv mv/a/1b mv/b/ && mv -f mv/a/2 mv/b/1b`);
    expect(await sh(`cd ${mount.dir} && ls mv/a mv/b`)).toBe('mv/a:\n\nmv/b:\n1b\n');
    expect(readFileSync(mount.path('mv/b/1b'), 'utf8')).toBe('two\n');
    await sh(`cd ${mount.dir} && mv mv/b mv/a/b2`);
    expect(readFileSync(mount.path('mv/a/b2/1b'), 'utf8')).toBe('two\n');
    await expect(sh(`cd ${mount.dir} && mv mv/a mv/a/b2/inside`)).rejects.toThrow();
  });

  it('shows a hard link\'s new nlink and ctime through every name at once; symlinks resolve', async () => {
    writeFileSync(mount.path('orig'), 'data');
    const before = lstatSync(mount.path('orig'), { bigint: true });
    await new Promise((r) => setTimeout(r, 20));
    await sh(`ln ${mount.path('orig')} ${mount.path('hard')} && ln -s orig ${mount.path('soft')}`);
    const viaOrig = lstatSync(mount.path('orig'), { bigint: true });
    expect(viaOrig.nlink).toBe(2n);
    expect(viaOrig.ctimeNs).toBeGreaterThan(before.ctimeNs);
    expect(lstatSync(mount.path('hard')).nlink).toBe(2);
    expect(await sh(`readlink ${mount.path('soft')}`)).toBe('orig\n');
    expect(readFileSync(mount.path('soft'), 'utf8')).toBe('data');
    await sh(`rm ${mount.path('hard')}`);
    expect(statSync(mount.path('orig')).nlink).toBe(1);
  });

  it("shows a directory's times and links after each change made in it exactly as the master holds them", async () => {
    // fst-mount keeps a changed directory cached with the attributes the master answered the change
    // with; a stat through the kernel must match what the master itself reports, to the nanosecond.
    const meta = new MetaClient(env.cluster.masterAddress, { tls: await masterTls(env.cluster.masterAddress) });
    const nsOf = (t: Timespec): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
    const asMaster = async (p: string): Promise<BigIntStats> => {
      const st = statSync(mount.path(p), { bigint: true });
      const a = await meta.getAttr(Number(st.ino));
      expect({ path: p, mtime: st.mtimeNs, ctime: st.ctimeNs, nlink: Number(st.nlink) })
        .toEqual({ path: p, mtime: nsOf(a.mtime), ctime: nsOf(a.ctime), nlink: a.nlink });
      return st;
    };
    try {
      mkdirSync(mount.path('wcc/a'), { recursive: true });
      mkdirSync(mount.path('wcc/b'));
      let a = await asMaster('wcc/a');
      /** After a change in wcc/a: the master's values, a later ctime and `nlink` links. */
      const changed = async (nlink: number): Promise<void> => {
        const now = await asMaster('wcc/a');
        expect(now.ctimeNs).toBeGreaterThan(a.ctimeNs);
        expect(Number(now.nlink)).toBe(nlink);
        a = now;
      };
      closeSync(openSync(mount.path('wcc/a/f'), 'w'));
      await changed(2);
      mkdirSync(mount.path('wcc/a/sub'));
      await changed(3);
      symlinkSync('f', mount.path('wcc/a/s'));
      await changed(3);
      renameSync(mount.path('wcc/a/sub'), mount.path('wcc/b/sub'));
      await changed(2);
      await asMaster('wcc/b');
      expect(statSync(mount.path('wcc/b')).nlink).toBe(3);
      linkSync(mount.path('wcc/a/f'), mount.path('wcc/a/g'));
      await changed(2);
      unlinkSync(mount.path('wcc/a/g'));
      await changed(2);
      rmdirSync(mount.path('wcc/b/sub'));
      expect(Number((await asMaster('wcc/b')).nlink)).toBe(2);
    } finally {
      meta.close();
    }
  });

  it('chmod and chown', async () => {
    writeFileSync(mount.path('perm'), 'p');
    await sh(`chmod 0751 ${mount.path('perm')} && chown 1234:5678 ${mount.path('perm')}`);
    const st = statSync(mount.path('perm'));
    expect(st.mode & 0o7777).toBe(0o751);
    expect(st.uid).toBe(1234);
    expect(st.gid).toBe(5678);
  });

  it('touch -m -d and touch -a -d change only their own time, to the nanosecond', async () => {
    writeFileSync(mount.path('times'), 't');
    await sh(`touch -a -d '2000-01-01 00:00:00' ${mount.path('times')}`);
    const a0 = statSync(mount.path('times'), { bigint: true });
    await sh(`touch -m -d '2010-05-06 07:08:09.123456789' ${mount.path('times')}`);
    const st = statSync(mount.path('times'), { bigint: true });
    const epoch = BigInt((await sh(`date -d '2010-05-06 07:08:09' +%s`)).trim());
    expect(st.mtimeNs).toBe(epoch * 1_000_000_000n + 123456789n);
    expect(st.atimeNs).toBe(a0.atimeNs);
    await sh(`touch -a -d '2003-03-03 03:03:03.5' ${mount.path('times')}`);
    const st2 = statSync(mount.path('times'), { bigint: true });
    expect(st2.mtimeNs).toBe(st.mtimeNs);
    expect(st2.atimeNs).not.toBe(st.atimeNs);
    expect(await sh(`stat -c %y ${mount.path('times')}`)).toMatch(/2010-05-06 07:08:09\.123456789/);
  });

  it('truncates up and down', async () => {
    writeFileSync(mount.path('tr'), 'abcdefghij');
    await sh(`truncate -s 4 ${mount.path('tr')}`);
    expect(readFileSync(mount.path('tr'), 'utf8')).toBe('abcd');
    await sh(`truncate -s 8 ${mount.path('tr')}`);
    expect(readFileSync(mount.path('tr'))).toEqual(Buffer.from('abcd\0\0\0\0'));
    expect(statSync(mount.path('tr')).size).toBe(8);
  });

  it('answers with the right errno', async () => {
    const err = async (cmd: string): Promise<string> => sh(cmd).then(() => 'ok', (e: { stderr?: string }) => e.stderr ?? '');
    expect(await err(`cat ${mount.path('nope')}`)).toMatch(/No such file or directory/);
    await sh(`mkdir ${mount.path('full')} && touch ${mount.path('full/x')}`);
    expect(await err(`rmdir ${mount.path('full')}`)).toMatch(/not empty/);
    expect(await err(`mkdir ${mount.path('full')}`)).toMatch(/File exists/);
    expect(await err(`touch ${mount.path('a'.repeat(256))}`)).toMatch(/File name too long/);
  });
});
