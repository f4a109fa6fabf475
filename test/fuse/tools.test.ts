/**
 * Real programs on the mount: dd of a 300 MiB file, appends from 4 processes with O_APPEND, tar
 * restoring mtimes, git and sqlite3 — each checked by its own integrity tool.
 */
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MountedCluster, sh, type FuseMount } from '../helpers/fuse-mount.js';

describe('mount: real programs', () => {
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

  it('writes 300 MiB with dd and reads back the same sha256', async () => {
    const src = join(local, 'big');
    await sh(`head -c ${300 * 1024 * 1024} /dev/urandom > ${src}`);
    await sh(`dd if=${src} of=${mount.path('big')} bs=1M status=none conv=fsync`);
    const [a, b] = await Promise.all([sh(`sha256sum < ${src}`), sh(`sha256sum < ${mount.path('big')}`)]);
    expect(b).toBe(a);
    expect(statSync(mount.path('big')).size).toBe(300 * 1024 * 1024);
    await rm(src);
  });

  it('loses no line when 4 processes append with O_APPEND', async () => {
    const script = Array.from({ length: 4 }, (_, p) =>
      `(for i in $(seq 1 200); do echo "p${p} line $i" >> ${mount.path('log')}; done) &`).join('\n') + '\nwait';
    await sh(script);
    const lines = readFileSync(mount.path('log'), 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(800);
    expect(new Set(lines).size).toBe(800);
    for (let p = 0; p < 4; p++) expect(lines.filter((l) => l.startsWith(`p${p} `))).toHaveLength(200);
  });

  it('restores mtimes with tar x', async () => {
    const src = join(local, 'tarsrc');
    await sh(`mkdir -p ${src}/d && echo a > ${src}/d/a && echo b > ${src}/b && touch -d '1999-12-31 23:59:58' ${src}/d/a ${src}/b ${src}/d &&
      tar -C ${src} -cf ${local}/t.tar .`);
    await sh(`mkdir ${mount.path('untar')} && tar -C ${mount.path('untar')} -xf ${local}/t.tar`);
    for (const p of ['d/a', 'b', 'd']) {
      expect(statSync(mount.path(`untar/${p}`)).mtimeMs, p).toBe(statSync(join(src, p)).mtimeMs);
    }
    await sh(`diff -r ${src} ${mount.path('untar')}`);
  });

  it('hosts a git repository that passes git fsck', async () => {
    const repo = mount.path('repo');
    await sh(`mkdir ${repo} && cd ${repo} && git init -q && git config user.email t@example.com && git config user.name t &&
      for i in $(seq 1 30); do echo "content $i" > f$i.txt; done && mkdir sub && seq 1 10000 > sub/numbers &&
      git add -A && git commit -qm first && echo more >> f1.txt && git commit -qam second && git gc -q`);
    await sh(`cd ${repo} && git fsck --full --strict`);
    expect((await sh(`cd ${repo} && git log --oneline | wc -l`)).trim()).toBe('2');
    expect(await sh(`cd ${repo} && git status --porcelain`)).toBe('');
  });

  it('hosts a sqlite3 database that passes integrity_check', async () => {
    const db = mount.path('test.db');
    await sh(`sqlite3 ${db} "PRAGMA journal_mode=DELETE; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
      WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 20000) INSERT INTO t (v) SELECT hex(randomblob(40)) FROM c;
      CREATE INDEX tv ON t(v); DELETE FROM t WHERE id % 3 = 0; VACUUM;"`);
    expect((await sh(`sqlite3 ${db} "PRAGMA integrity_check; SELECT count(*) FROM t;"`)).trim()).toBe('ok\n13334');
  });
});
