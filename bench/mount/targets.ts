/**
 * The places the mount benchmark runs its workloads, all on the disk that holds the temp directory:
 * a local directory, a bindfs passthrough of a local directory (FUSE through libfuse2,
 * multithreaded, with fst-mount's request sizes), and fst-mount over a cluster of real processes
 * (MooseFS, the fourth, is in moosefs.ts). Each `stop` unmounts and ends what it started, and never
 * throws.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FuseMount } from '../../test/helpers/fuse-mount.js';
import { startProcessCluster, type ProcessCluster } from '../../test/helpers/process-cluster.js';
import { Child } from './child.js';
import type { RolePids } from './process-cpu.js';
import { isMounted, q, sh } from './system.js';

export type TargetName = 'local' | 'bindfs' | 'moosefs' | 'fst' | 'fst-base';

export interface Target {
  name: TargetName;
  /** Where the workloads run. */
  dir: string;
  /** A directory on the disk that holds this target's bytes (for syncfs). */
  backing: string;
  /** One line saying what this target is. */
  describe: string;
  /** The processes serving it, by role (a cluster's; none for a local directory or bindfs). */
  pids?: RolePids;
  stop(): Promise<void>;
}

export async function startLocal(root: string): Promise<Target> {
  const dir = join(root, 'local');
  await mkdir(dir);
  return { name: 'local', dir, backing: dir, describe: `local directory ${dir}`, stop: async () => undefined };
}

/**
 * The same FUSE request sizes as fst-mount (src/client/fuse/mount-options.ts): without big_writes
 * libfuse2 gets 4 KiB writes, which would make the baseline slow for a reason FST does not share.
 * Entry and attribute timeouts stay libfuse's defaults (1 s).
 */
const BINDFS_ARGS = ['-f', '--no-allow-other', '--multithreaded', '-o', 'big_writes,max_write=131072,max_read=131072'];

/** bindfs in the foreground as our child, so that it is ours to end by pid. */
export async function startBindfs(root: string): Promise<Target> {
  const src = join(root, 'bindfs-src');
  const dir = join(root, 'bindfs-mnt');
  await mkdir(src);
  await mkdir(dir);
  const child = Child.spawn('bindfs', ['bindfs', ...BINDFS_ARGS, src, dir]);
  const stop = (): Promise<void> => stopBindfs(child, dir);
  try {
    await child.waitUntil(`a mount on ${dir}`, () => isMounted(dir), 15_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { name: 'bindfs', dir, backing: src, describe: `bindfs ${BINDFS_ARGS.join(' ')} (pid ${child.pid}) of ${src}`, stop };
}

async function stopBindfs(child: Child, dir: string): Promise<void> {
  if (await isMounted(dir)) {
    await sh(`fusermount -u ${q(dir)}`).catch(() => sh(`fusermount -u -z ${q(dir)}`).catch(() => undefined));
  }
  // bindfs exits by itself once unmounted.
  if (!(await child.exitsWithin(10_000))) await child.stop();
  if (await isMounted(dir)) await sh(`fusermount -u -z ${q(dir)}`).catch(() => undefined);
}

/** Sets environment variables while `fn` runs (the daemons are spawned with our environment). */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * fst-mount over 1 master + 3 chunkservers (replication 2), all real processes with their data in
 * temp directories. With `cpuProfDir`, every daemon writes a CPU profile there when it stops
 * (bench/cpu-profile.mjs).
 */
/**
 * FST from this checkout (`fst`) or, with `baseRoot`, from another one, built (`fst-base`: an A/B of
 * two commits in the same run, e.g. a `git worktree` of the previous commit with `npm run build`).
 */
export async function startFst(cpuProfDir?: string, baseRoot?: string): Promise<Target> {
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  const env: Record<string, string> = cpuProfDir
    ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${join(import.meta.dirname, '..', 'cpu-profile.mjs')}`.trim(), FST_CPU_PROF_DIR: cpuProfDir }
    : {};
  if (baseRoot) env.FST_BIN_ROOT = baseRoot;
  const { cluster, mount } = await withEnv(env, async () => {
    const cluster: ProcessCluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    try {
      return { cluster, mount: await FuseMount.start(cluster.masterAddress) };
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  });
  const pids = `master ${cluster.master.pid}, chunkservers ${cluster.chunkservers.map((c) => c.process.pid).join(' ')}, fst-mount ${mount.process.pid}`;
  return {
    name: baseRoot ? 'fst-base' : 'fst',
    dir: mount.dir,
    backing: cluster.root,
    describe: `${baseRoot ? `the build in ${baseRoot}: ` : ''}fst-mount ${mount.dir} over 1 master + 3 chunkservers, replication 2 (${pids}; data in ${cluster.root})`,
    pids: { mount: [mount.process.pid], master: [cluster.master.pid], chunkservers: cluster.chunkservers.map((c) => c.process.pid) },
    stop: async () => {
      await mount.stop().catch(() => undefined);
      await cluster.stop().catch(() => undefined);
    },
  };
}
