/**
 * fallocate(2) through a real mount, compared step by step with a local directory (util-linux's
 * fallocate command): mode 0 grows a file and the new range reads as zeros; KEEP_SIZE past the end
 * changes no size; PUNCH_HOLE|KEEP_SIZE turns a range into zeros, also across 64 KiB blocks and in
 * data still being written; posix_fallocate (--posix). On the mount alone: more than the cluster
 * holds is ENOSPC and changes nothing (ext4, asked for more than its disk holds, may allocate all of
 * it before failing, so the local directory is not asked), and ZERO_RANGE and COLLAPSE_RANGE, which
 * FST does not do, answer EOPNOTSUPP (ext4 does them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminStatus } from '../helpers/cli.js';
import { MountedCluster, sh } from '../helpers/fuse-mount.js';

/** The steps in `dir`: one line each with the outcome, then size and sha256 of the file. */
function steps(dir: string, source: string): string {
  const step = (name: string, cmd: string, file: string): string =>
    `o=$( (${cmd}) 2>&1 >/dev/null | sed 's/^.*: //' | tr -d '\\n' ); echo "${name}: \${o:-ok} size=$(stat -c %s ${file}) $(sha256sum < ${file} | cut -c1-16)"`;
  return [
    `cd ${dir}`,
    `cp ${source} data && cp data a && cp data b && cp data c`,
    step('grow by mode 0', 'fallocate -o 250000 -l 200000 a', 'a'),
    step('mode 0 inside the file', 'fallocate -o 0 -l 1000 a', 'a'),
    step('keep size past the end', 'fallocate -n -o 0 -l 1000000 b', 'b'),
    step('punch a hole across blocks', 'fallocate -p -o 60000 -l 100000 c', 'c'),
    step('punch past the end', 'fallocate -p -o 290000 -l 50000 c', 'c'),
    step('posix_fallocate', 'fallocate -x -o 0 -l 400000 b', 'b'),
    step('zero bytes', 'fallocate -l 0 b', 'b'),
    // Written and punched through one descriptor before it is closed.
    `exec 3<>w && head -c 200000 data >&3 && fallocate -p -o 1000 -l 5000 w; exec 3>&-`,
    step('punch while written', 'true', 'w'),
    'cmp -s <(head -c 1000 data) <(head -c 1000 c) && echo "head of c kept" || echo "head of c changed"',
    'cmp -s <(head -c 160000 c | tail -c 100000) <(head -c 100000 /dev/zero) && echo "hole reads as zeros" || echo "hole has data"',
  ].join('\n');
}

describe('mount: fallocate', () => {
  let mc: MountedCluster;
  beforeAll(async () => {
    mc = await MountedCluster.start();
  });
  afterAll(async () => {
    await mc?.stop();
  });

  it('grows, keeps size and punches holes as a local filesystem does', async () => {
    const source = `${mc.local}/source`;
    await sh(`head -c 300000 /dev/urandom > ${source} && mkdir ${mc.local}/fa ${mc.mount.path('fa')}`);
    const local = await sh(steps(`${mc.local}/fa`, source));
    const mounted = await sh(steps(mc.mount.path('fa'), source));
    expect(local).toMatch(/^grow by mode 0: ok size=450000 /m);
    expect(local).toMatch(/^hole reads as zeros$/m);
    expect(mounted.split('\n')).toEqual(local.split('\n'));
  });

  it('answers ENOSPC for more than the cluster holds, and EOPNOTSUPP for the modes it does not do', async () => {
    await sh(`head -c 100000 /dev/urandom > ${mc.mount.path('z')}`);
    // Four times what the mount says is free (the chunkservers' free space together).
    const free = Number(await sh(`df --output=avail -B1 ${mc.mount.dir} | tail -1`));
    expect(free).toBeGreaterThan(0);
    const out = await sh(`fallocate -l ${free * 4 + 2 ** 30} ${mc.mount.path('z')} 2>&1 || true`);
    expect(out).toMatch(/No space left on device/);
    for (const flag of ['-z', '-c']) {
      const out = await sh(`fallocate ${flag} -o 0 -l 65536 ${mc.mount.path('z')} 2>&1 || true`);
      expect(out, flag).toMatch(/Operation not supported/);
    }
    expect(await sh(`stat -c %s ${mc.mount.path('z')}`)).toBe('100000\n');
  });

  it('frees the 64 MiB chunks a punched hole covers whole, and zeros the rest of the range, as a local file reads', async () => {
    const MiB = 1024 * 1024;
    // Three chunks: [0, 64 MiB), [64, 128), and 1,000 bytes of a third.
    const source = `${mc.local}/big-source`;
    await sh(`head -c ${128 * MiB + 1000} /dev/urandom > ${source} && cp ${source} ${mc.local}/big && cp ${source} ${mc.mount.path('big')}`);
    const before = (await adminStatus(mc.cluster.masterAddress)).chunks;
    const punch = (f: string): Promise<string> => sh(`fallocate -p -o 1000 -l ${128 * MiB} ${f} && stat -c %s ${f} && sha256sum < ${f}`);
    const local = await punch(`${mc.local}/big`);
    expect(await punch(mc.mount.path('big'))).toBe(local);
    // The second chunk, and the third, covered up to the end of the file, are gone from the master
    // (their replicas are collected), not rewritten as zeros; the first was written with zeros.
    expect((await adminStatus(mc.cluster.masterAddress)).chunks).toBe(before - 2);
    // A fresh read (caches dropped) still sees the hole and the data around it.
    await sh('sync && echo 3 > /proc/sys/vm/drop_caches');
    expect(await sh(`sha256sum < ${mc.mount.path('big')}`)).toBe(local.split('\n')[1] + '\n');
    expect(await sh(`head -c 1000 ${mc.mount.path('big')} | cmp - <(head -c 1000 ${source}) && echo same`)).toBe('same\n');
  });
});
