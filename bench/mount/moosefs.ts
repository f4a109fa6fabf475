/**
 * MooseFS as a target of the mount benchmark: 1 master + 3 chunkservers + mfsmount, goal 2 and
 * trash time 0 on the mount root, all in the foreground as our children (so that we own every pid)
 * inside a network namespace of our own (MooseFS's master refuses chunkservers on 127.0.0.0/8, so
 * every daemon binds to a /32 on that namespace's lo). The mount still appears in the normal mount
 * namespace. `stop()` unmounts, ends exactly what it started, deletes the namespace and the temp
 * directory, and never throws; a process exit handler does the same if the run dies first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Child } from './child.js';
import { MASTER_CLIENT_PORT, writeMoosefsConfig, type MoosefsLayout } from './moosefs-config.js';
import { NetNs } from './netns.js';
import { isMounted, q, sh, sleep } from './system.js';
import type { Target } from './targets.js';

/** The namespace's extra address: private, and unlikely to be in use (it is private to the namespace anyway). */
const ADDRESS = '10.254.94.1';
const PROGRAMS = ['mfsmaster', 'mfschunkserver', 'mfsmount', 'mfscli', 'mfssetgoal', 'mfssettrashtime'];
const PACKAGES = 'moosefs-master moosefs-chunkserver moosefs-client moosefs-cli';
/** mfsmount's options: where the master is, no priority boost (its default is -19), our empty config file. */
const mountOptions = (l: MoosefsLayout): string => `mfsmaster=${ADDRESS},mfsport=${MASTER_CLIENT_PORT},mfsnice=0,mfscfgfile=${l.mountCfg}`;

/** Why MooseFS cannot run here, as a sentence saying how to fix it; undefined when it can. */
export async function moosefsMissing(): Promise<string | undefined> {
  const missing: string[] = [];
  for (const p of PROGRAMS) if (!(await sh(`command -v ${p}`).then(() => true, () => false))) missing.push(p);
  if (missing.length) return `MooseFS is not installed (no ${missing.join(', ')}): as root, apt-get install ${PACKAGES} (Debian 12 ships 3.0.117)`;
  if (process.getuid?.() !== 0) return 'MooseFS runs in a network namespace of its own, which needs root';
  return undefined;
}

export async function startMoosefs(root: string, opts: { fsyncChunks: boolean }): Promise<Target> {
  const layout = await writeMoosefsConfig(join(root, 'moosefs'), { address: ADDRESS, chunkservers: 3, fsyncChunks: opts.fsyncChunks });
  const c = new MoosefsCluster(layout);
  let version = '?';
  try {
    version = (await sh('mfsmaster -v')).match(/version: (\S+)/)?.[1] ?? version;
    await c.start();
  } catch (e) {
    await c.stop();
    throw e;
  }
  const pids = `master ${c.master!.pid}, chunkservers ${c.chunkservers.map((cs) => cs.pid).join(' ')}, mfsmount ${c.mount!.pid}`;
  return {
    name: 'moosefs',
    dir: layout.mnt,
    backing: layout.root,
    describe: `MooseFS ${version}: mfsmount -f -o ${mountOptions(layout)} (other options default) over 1 master + 3 chunkservers`
      + ` at NICE_LEVEL 0 in netns ${c.ns!.name} on ${ADDRESS}, goal 2, trash time 0, HDD_FSYNC_BEFORE_CLOSE ${opts.fsyncChunks ? 1 : '0 (default)'} (${pids}; data in ${layout.root})`,
    pids: { mount: [c.mount!.pid], master: [c.master!.pid], chunkservers: c.chunkservers.map((cs) => cs.pid) },
    stop: () => c.stop(),
  };
}

class MoosefsCluster {
  ns?: NetNs;
  master?: Child;
  readonly chunkservers: Child[] = [];
  mount?: Child;
  /** The master's own children (its metadata writer), ended after it if they outlive it. */
  private masterChildren: number[] = [];
  private readonly onExit = (): void => this.stopSync();

  constructor(private readonly layout: MoosefsLayout) {
    process.once('exit', this.onExit);
  }

  private spawn(name: string, argv: string[]): Child {
    return Child.spawn(name, [...this.ns!.prefix, ...argv]);
  }

  async start(): Promise<void> {
    const l = this.layout;
    this.ns = await NetNs.create(ADDRESS);
    this.master = this.spawn('mfsmaster', ['mfsmaster', '-f', '-c', l.master.cfg]);
    await this.master.waitUntil('"initialized properly"', () => this.master!.tail.some((s) => s.includes('daemon initialized properly')));
    for (const [i, cs] of l.chunkservers.entries()) this.chunkservers.push(this.spawn(`mfschunkserver${i + 1}`, ['mfschunkserver', '-f', '-c', cs.cfg]));
    await this.master.waitUntil(`${l.chunkservers.length} chunkservers connected with their space`, () => this.chunkserversReady(), 60_000);
    this.mount = this.spawn('mfsmount', ['mfsmount', '-f', '-o', mountOptions(l), l.mnt]);
    await this.mount.waitUntil(`a mount on ${l.mnt}`, () => isMounted(l.mnt));
    // The tools reach the master through mfsmount's local proxy (127.0.0.1 inside the namespace).
    const m = q(l.mnt);
    await this.ns.run(`mfssetgoal -r 2 ${m} && mfssettrashtime -r 0 ${m}`);
    const got = await this.ns.run(`mfsgetgoal ${m} && mfsgettrashtime ${m}`);
    if (!/: 2\n[^]*: 0\n/.test(got)) throw new Error(`goal 2 and trash time 0 were not set on ${l.mnt}:\n${got}`);
  }

  /** Every chunkserver is in `mfscli -SCS` with its disk scanned (total space above 0). */
  private async chunkserversReady(): Promise<boolean> {
    const dead = this.chunkservers.find((cs) => !cs.running);
    if (dead) throw new Error(`${dead.name} exited:\n${dead.output()}`);
    const out = await this.ns!.run(`mfscli -H ${ADDRESS} -P ${MASTER_CLIENT_PORT} -SCS -s '|' -n`).catch(() => '');
    const ports = new Set(this.layout.chunkservers.map((cs) => cs.port));
    const ready = out.split('\n').map((line) => line.split('|')).filter((f) => f[0] === 'chunk servers:' && ports.has(Number(f[2])) && Number(f[10]) > 0);
    return ready.length === ports.size;
  }

  /** Unmounts, ends every process we started (children by pid), deletes the namespace and the files. Never throws. */
  async stop(): Promise<void> {
    const mnt = this.layout.mnt;
    const step = async (fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        process.stdout.write(`  moosefs stop: ${String(e)}\n`);
      }
    };
    await step(async () => {
      if (await isMounted(mnt)) await sh(`umount ${q(mnt)}`).catch(() => sh(`umount -l ${q(mnt)}`));
      // mfsmount exits by itself once unmounted.
      if (this.mount && !(await this.mount.exitsWithin(10_000))) await this.mount.stop();
      if (await isMounted(mnt)) await sh(`umount -l ${q(mnt)}`);
    });
    await step(() => Promise.all(this.chunkservers.map((cs) => cs.stop(30_000))));
    await step(async () => {
      if (!this.master) return;
      this.masterChildren = childrenOf(this.master.pid);
      // SIGTERM: the master stores its metadata, then exits.
      await this.master.stop(30_000);
      killLeftovers(this.masterChildren, 'mfsmaster');
      // Orphans are reaped by init: wait until they are gone, so that nothing of ours is left.
      for (let i = 0; i < 100 && this.masterChildren.some((pid) => existsSync(`/proc/${pid}`)); i++) await sleep(50);
    });
    await step(async () => this.ns?.delete());
    await step(async () => {
      if (!(await isMounted(mnt))) await rm(this.layout.root, { recursive: true, force: true });
    });
    process.removeListener('exit', this.onExit);
  }

  /** What stop() does, synchronously and bluntly, for a process that exits without running it. */
  private stopSync(): void {
    if (this.master?.running) this.masterChildren = childrenOf(this.master.pid);
    for (const c of [this.mount, ...this.chunkservers, this.master]) c?.killNow();
    killLeftovers(this.masterChildren, 'mfsmaster');
    try {
      execFileSync('umount', ['-l', this.layout.mnt], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    this.ns?.deleteSync();
    rmSync(this.layout.root, { recursive: true, force: true });
  }
}

/** The pids of a process's children (Linux: /proc/PID/task/TID/children). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs those of `pids` that still run `comm` (a child the master forked and left behind). */
function killLeftovers(pids: number[], comm: string): void {
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
