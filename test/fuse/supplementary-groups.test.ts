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
import { MountedCluster, sh } from '../helpers/fuse-mount.js';

const USER = 'setpriv --reuid=1234 --regid=5678 --groups=5678,6000';

/**
 * The steps, run in `dir` (root prepares, the user acts): one line per step with its outcome
 * ("ok" or the error's text) and what stat says afterwards.
 */
function steps(dir: string): string {
  const u = (cmd: string): string => `${USER} bash -c ${JSON.stringify(cmd)} 2>&1 | sed 's/^.*: //' | tr -d '\\n'`;
  const step = (name: string, cmd: string, stat: string): string =>
    `echo "${name}: $(${u(`${cmd} && echo ok`)}) $(stat -c '%u:%g %A' ${stat} 2>/dev/null)"`;
  return [
    `cd ${dir}`,
    'mkdir -m 1777 play && mkdir -m 2770 team && chgrp 6000 team',
    `${USER} bash -c 'cd play && touch f g h k && mkdir d && ln -s f l && echo x > s && chmod 2755 s' `,
    'chgrp 7000 play/k',
    step('chgrp file', 'chgrp 6000 play/f', 'play/f'),
    step('chown :group', 'chown :6000 play/g', 'play/g'),
    step('chown self:group', 'chown 1234:6000 play/h', 'play/h'),
    step('chgrp dir', 'chgrp 6000 play/d', 'play/d'),
    step('lchown symlink', 'chgrp -h 6000 play/l', 'play/l'),
    step('chgrp to a group not mine', 'chgrp 7000 play/f', 'play/f'),
    step('chown to another user', 'chown 4321 play/f', 'play/f'),
    step('chgrp setgid file', 'chgrp 6000 play/s && chmod 2755 play/s', 'play/s'),
    step('create in a group dir', 'echo hi > team/new', 'team/new'),
    step('mkdir in a group dir', 'mkdir team/sub', 'team/sub'),
    step('remove in a group dir', 'rm team/new', 'team'),
    step('chmod g+s on my file of my supplementary group', 'chmod g+s play/g', 'play/g'),
    // Not in the file's group: chmod succeeds and S_ISGID is dropped (Linux's setattr_prepare).
    step('chmod g+s on my file of a group not mine', 'chmod g+s play/k', 'play/k'),
  ].join('\n');
}

describe('mount: supplementary groups', () => {
  let mc: MountedCluster;
  beforeAll(async () => {
    mc = await MountedCluster.start(['--allow-other']);
    await sh(`chmod 755 ${mc.mount.dir} ${mc.local}`);
  });
  afterAll(async () => {
    await mc?.stop();
  });

  it('lets a user chgrp to its supplementary groups and use directories of them, as a local filesystem does', async () => {
    const local = await sh(steps(mc.local));
    const mounted = await sh(steps(mc.mount.dir));
    // The steps did what they should: every chgrp to 6000 worked locally, the one to 7000 did not.
    expect(local).toMatch(/^chgrp file: ok 1234:6000/m);
    expect(local).toMatch(/^chgrp to a group not mine: Operation not permitted/m);
    expect(local).toMatch(/^create in a group dir: ok 1234:6000/m);
    expect(mounted.split('\n')).toEqual(local.split('\n'));
  });
});
