/**
 * POSIX behaviour through a mount compared with a local directory, as real users: the users (uid,
 * gid and groups given by setpriv, the way the kernel gives them to FUSE: a real process), a
 * cluster mounted for them, and shell steps that print one comparable line each.
 */
import { MountedCluster, sh } from './fuse-mount.js';

/** A user in groups 5678 (primary) and 6000 (supplementary). */
export const USER_ARGV = ['setpriv', '--reuid=1234', '--regid=5678', '--groups=5678,6000'];
/** Another user, in no group of USER's. */
export const OTHER_ARGV = ['setpriv', '--reuid=4321', '--regid=4321', '--clear-groups'];
export const USER = USER_ARGV.join(' ');
export const OTHER = OTHER_ARGV.join(' ');

/** A cluster mounted with --allow-other, its mount and local directory reachable by other users. */
export async function startForUsers(): Promise<MountedCluster> {
  const mc = await MountedCluster.start(['--allow-other']);
  try {
    await sh(`chmod 755 ${mc.mount.dir} ${mc.local}`);
    return mc;
  } catch (e) {
    await mc.stop();
    throw e;
  }
}

/**
 * A shell line that runs `cmd` as `who` (a setpriv prefix, or 'env' for root) and prints
 * "<name>: <ok, or the error's text> <uid:gid octal mode of statPath>".
 */
export function step(name: string, who: string, cmd: string, statPath: string): string {
  const run = `${who} bash -c ${JSON.stringify(`${cmd} && echo ok`)} 2>&1 | sed 's/^.*: //' | tr -d '\\n'`;
  return `echo "${name}: $(${run}) $(stat -c '%u:%g %a' ${statPath} 2>/dev/null)"`;
}

/** The same steps (a script made for a directory) run locally and on the mount, in that order. */
export async function localAndMounted(mc: MountedCluster, steps: (dir: string) => string): Promise<{ local: string; mounted: string }> {
  const local = await sh(steps(mc.local));
  return { local, mounted: await sh(steps(mc.mount.dir)) };
}
