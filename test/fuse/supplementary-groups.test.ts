/**
 * Supplementary groups through a real mount, compared step by step with a local directory: a user
 * in groups 5678 (primary) and 6000 (supplementary) may chgrp what it owns to 6000 (files,
 * directories, symlinks with lchown, `chown :G` and `chown self:G`) but not to a group it is not
 * in; chmod g+s keeps S_ISGID on a file of its supplementary group; and a directory whose group is
 * the supplementary one lets it create and remove entries (the master checks directories itself),
 * while on a file of a group it is not in, chmod g+s drops the bit.
 * The user is a real process made by setpriv, as the kernel tells FUSE only uid, gid and pid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MountedCluster } from '../helpers/fuse-mount.js';
import { USER, localAndMounted, startForUsers, step } from '../helpers/posix-users.js';

/** The steps, run in `dir` (root prepares, the user acts). */
function steps(dir: string): string {
  return [
    `cd ${dir}`,
    'mkdir -m 1777 play && mkdir -m 2770 team && chgrp 6000 team',
    `${USER} bash -c 'cd play && touch f g h k && mkdir d && ln -s f l && echo x > s && chmod 2755 s' `,
    'chgrp 7000 play/k',
    step('chgrp file', USER, 'chgrp 6000 play/f', 'play/f'),
    step('chown :group', USER, 'chown :6000 play/g', 'play/g'),
    step('chown self:group', USER, 'chown 1234:6000 play/h', 'play/h'),
    step('chgrp dir', USER, 'chgrp 6000 play/d', 'play/d'),
    step('lchown symlink', USER, 'chgrp -h 6000 play/l', 'play/l'),
    step('chgrp to a group not mine', USER, 'chgrp 7000 play/f', 'play/f'),
    step('chown to another user', USER, 'chown 4321 play/f', 'play/f'),
    step('chgrp setgid file', USER, 'chgrp 6000 play/s && chmod 2755 play/s', 'play/s'),
    step('create in a group dir', USER, 'echo hi > team/new', 'team/new'),
    step('mkdir in a group dir', USER, 'mkdir team/sub', 'team/sub'),
    step('remove in a group dir', USER, 'rm team/new', 'team'),
    step('chmod g+s on my file of my supplementary group', USER, 'chmod g+s play/g', 'play/g'),
    // Not in the file's group: chmod succeeds and S_ISGID is dropped (Linux's setattr_prepare).
    step('chmod g+s on my file of a group not mine', USER, 'chmod g+s play/k', 'play/k'),
  ].join('\n');
}

describe('mount: supplementary groups', () => {
  let mc: MountedCluster;
  beforeAll(async () => {
    mc = await startForUsers();
  });
  afterAll(async () => {
    await mc?.stop();
  });

  it('lets a user chgrp to its supplementary groups and use directories of them, as a local filesystem does', async () => {
    const { local, mounted } = await localAndMounted(mc, steps);
    // The steps did what they should: every chgrp to 6000 worked locally, the one to 7000 did not.
    expect(local).toMatch(/^chgrp file: ok 1234:6000/m);
    expect(local).toMatch(/^chgrp to a group not mine: Operation not permitted/m);
    expect(local).toMatch(/^create in a group dir: ok 1234:6000/m);
    expect(mounted.split('\n')).toEqual(local.split('\n'));
  });
});
