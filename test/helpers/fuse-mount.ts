/**
 * A real fst-mount process for tests: mounts a cluster at a fresh temp directory and always
 * unmounts it (SIGTERM, then `fusermount -u -z` if the process could not), removing the directory.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withCredentials } from './credentials.js';
import { DaemonProcess } from './daemon-process.js';
import { startProcessCluster, type ProcessCluster } from './process-cluster.js';

const run = promisify(execFile);

export async function isMounted(dir: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((l) => l.split(' ')[1] === dir);
}

export class FuseMount {
  private constructor(readonly dir: string, readonly process: DaemonProcess) {}

  static async start(master: string, extraArgs: string[] = []): Promise<FuseMount> {
    const dir = await mkdtemp(join(tmpdir(), 'fst-mnt-'));
    try {
      const proc = await DaemonProcess.start('fst-mount', 'fst-mount.js', withCredentials(['--master', master, dir, '--foreground', ...extraArgs]), {}, 'mounted');
      return new FuseMount(dir, proc);
    } catch (e) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
  }

  path(p: string): string {
    return join(this.dir, p);
  }

  async stop(): Promise<void> {
    await this.process.stop(20_000).catch(() => undefined);
    if (await isMounted(this.dir)) await run('fusermount', ['-u', '-z', this.dir]).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** Runs a shell command (bash -c) with cwd, resolving with its output; rejects on non-zero exit. */
export async function sh(cmd: string, cwd?: string, timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run('bash', ['-c', cmd], { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout;
}

/**
 * What most mount tests start with: a process cluster (3 chunkservers, replication 2), one mount
 * of it, and a local scratch directory; `stop()` removes all three, whatever happened.
 */
export class MountedCluster {
  private constructor(readonly cluster: ProcessCluster, readonly mount: FuseMount, readonly local: string) {}

  static async start(mountArgs: string[] = []): Promise<MountedCluster> {
    const cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    let mount: FuseMount | undefined;
    try {
      mount = await FuseMount.start(cluster.masterAddress, mountArgs);
      return new MountedCluster(cluster, mount, await mkdtemp(join(tmpdir(), 'fst-local-')));
    } catch (e) {
      await mount?.stop();
      await cluster.stop();
      throw e;
    }
  }

  async stop(): Promise<void> {
    await this.mount.stop();
    await this.cluster.stop();
    await rm(this.local, { recursive: true, force: true });
  }
}
