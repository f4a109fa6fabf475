/**
 * Set-user-id and set-group-id bits through a real mount, compared step by step with a local
 * directory: a write or truncate by a user who is not the owner clears them (S_ISGID only with
 * group execute) and succeeds; chown clears them, by the owner and by root; directories keep
 * S_ISGID, and what is made in such a directory takes its group (subdirectories the bit too).
 * The users are real processes made by setpriv.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountedCluster } from '../helpers/fuse-mount.js';
import { OTHER, USER, localAndMounted, startForUsers, step } from '../helpers/posix-users.js';

/** The steps in `dir`: one line each with its outcome and stat afterwards (posix-users.ts step). */
function steps(dir: string): string {
  return [
    `cd ${dir}`,
    'mkdir -m 1777 p',
    // Root's files that everyone may write, with both bits; one with S_ISGID but no group execute.
    // (S_ISGID without group execute, in the writer's group: kept. Linux 6.x also drops it for a
    // writer outside the group; FUSE's kernel side drops it only with group execute.)
    'for f in w t x n; do echo data > p/$f; done && chmod 6777 p/w p/t p/x && chgrp 4321 p/n && chmod 2666 p/n',
    step('write by another user', OTHER, 'echo more >> p/w', 'p/w'),
    step('truncate by another user', OTHER, 'truncate -s 2 p/t', 'p/t'),
    step('write through O_TRUNC by another user', OTHER, 'echo new > p/x', 'p/x'),
    step('write by a group member keeps S_ISGID without group exec', OTHER, 'echo more >> p/n', 'p/n'),
    `${USER} bash -c 'cd p && echo a > mine && chmod 6755 mine && echo b > mine2 && chmod 6755 mine2'`,
    step('chgrp by the owner', USER, 'chgrp 6000 p/mine', 'p/mine'),
    step('write by the owner', USER, 'echo more >> p/mine2', 'p/mine2'),
    'echo r > p/byroot && chmod 6755 p/byroot',
    step('chown by root', 'env', 'chown 1234:6000 p/byroot', 'p/byroot'),
    'mkdir -m 2777 p/sg && chgrp 6000 p/sg',
    step('file in a set-gid dir', OTHER, 'echo x > p/sg/f', 'p/sg/f'),
    step('dir in a set-gid dir', OTHER, 'mkdir p/sg/d', 'p/sg/d'),
    step('set-gid dir keeps its bit when written', OTHER, 'touch p/sg/g', 'p/sg'),
    step('chgrp of a set-gid dir by root', 'env', 'chgrp 5678 p/sg', 'p/sg'),
  ].join('\n');
}

describe('mount: set-id bits', () => {
  let mc: MountedCluster;
  beforeAll(async () => {
    mc = await startForUsers();
  });
  afterAll(async () => {
    await mc?.stop();
  });

  it('clears set-id bits on writes by others and on chown, and keeps them on set-gid directories, as a local filesystem does', async () => {
    const { local, mounted } = await localAndMounted(mc, steps);
    // The steps did what they should locally: the write succeeded and cleared both bits.
    expect(local).toMatch(/^write by another user: ok 0:0 777$/m);
    expect(local).toMatch(/^file in a set-gid dir: ok 4321:6000 /m);
    expect(mounted.split('\n')).toEqual(local.split('\n'));
  });
});
