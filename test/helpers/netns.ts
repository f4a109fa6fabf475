/**
 * A small network lab for partition tests, made of Linux network namespaces: a "switch" namespace
 * holding a bridge, N host namespaces each plugged into it by a veth pair, and a veth from the root
 * namespace into the switch, so the test process (and a master or mount it runs) reaches every host.
 *
 * ```
 *  root ns: <tag>r (.1) ──veth── up0 ┐
 *                                    ├─ br0 (switch ns)
 *  host i:  eth0 (.10+i) ──veth── h<i> ┘
 * ```
 *
 * Addresses come from a random private /24 (10.x.y.0/24) that overlaps no route of the root
 * namespace. `cut(i)` / `heal(i)` bring host i's port on the bridge down / up: host i then reaches
 * nobody and nobody reaches it (established TCP connections stall rather than reset, as with a
 * pulled cable). `exec(i, ...)` spawns a process inside host i (`ip netns exec`, which execs, so
 * the child's PID is the process's). Nothing host-wide is changed (no ip_forward, no sysctl); the
 * only trace in the root namespace is the one veth and its /24 route, which go with `dispose()`.
 * Names carry the pid and a random tag, so parallel runs never collide. `dispose()` kills the
 * processes `exec` started, deletes every namespace and link, is idempotent, and also runs at
 * process exit.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args);
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${err.stderr?.trim() || err.message}`);
  }
}

/** [network, prefix length] of an IPv4 CIDR ("10.1.2.0/24", or a bare address as /32). */
function parseCidr(cidr: string): [number, number] {
  const [addr, len] = cidr.split('/');
  const bits = len === undefined ? 32 : Number(len);
  const parts = (addr ?? '').split('.').map(Number);
  while (parts.length < 4) parts.push(0); // "10/8" style
  const n = parts.reduce((acc, p) => acc * 256 + (p & 255), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [(n & mask) >>> 0, bits];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [na, la] = parseCidr(a);
  const [nb, lb] = parseCidr(b);
  const len = Math.min(la, lb);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return ((na & mask) >>> 0) === ((nb & mask) >>> 0);
}

/** Destinations of every IPv4 route (all tables) and address of the root namespace, default routes excepted. */
async function usedPrefixes(): Promise<string[]> {
  const out: string[] = [];
  for (const line of (await ip('-4', 'route', 'show', 'table', 'all')).split('\n')) {
    const words = line.trim().split(/\s+/);
    // "local 127.0.0.0/8 dev lo ...", "10.0.0.0/8 via ...", "broadcast 1.2.3.255 dev ..."
    const dest = ['local', 'broadcast', 'unicast', 'blackhole', 'unreachable', 'prohibit', 'multicast', 'anycast', 'nat', 'throw']
      .includes(words[0] ?? '') ? words[1] : words[0];
    if (dest && dest !== 'default' && /^\d/.test(dest)) out.push(dest);
  }
  for (const m of (await ip('-4', '-o', 'addr', 'show')).matchAll(/inet (\d+\.\d+\.\d+\.\d+\/\d+)/g)) out.push(m[1]!);
  return out;
}

export interface NetHost {
  index: number;
  /** Namespace name (for `ip netns exec`). */
  ns: string;
  /** The host's IPv4 address on the lab's /24. */
  address: string;
  /** The host's port on the bridge, inside the switch namespace. */
  port: string;
}

export class NetLab {
  readonly hosts: NetHost[] = [];
  private readonly children = new Set<ChildProcess>();
  private disposed = false;
  private readonly onExit = (): void => this.disposeSync();

  private constructor(
    /** Unique per run: `fst<pid base36><random>`. */
    readonly tag: string,
    /** First three octets of the lab's /24, e.g. "10.213.7". */
    readonly net: string,
  ) {
    process.once('exit', this.onExit);
  }

  /** The lab's subnet, e.g. "10.213.7.0/24". */
  get subnet(): string {
    return `${this.net}.0/24`;
  }

  /** The root namespace's address on the lab (where a master or mount run by the test listens). */
  get rootAddress(): string {
    return `${this.net}.1`;
  }

  get switchNs(): string {
    return `${this.tag}-sw`;
  }

  /** The root namespace's end of its veth into the switch (at most 15 characters). */
  get rootLink(): string {
    return `${this.tag}r`;
  }

  /** Builds a lab with `hosts` host namespaces. Whatever was made is removed again if a step fails. */
  static async create(hosts: number): Promise<NetLab> {
    if (hosts < 1 || hosts > 200) throw new RangeError(`hosts must be 1..200, not ${hosts}`);
    const used = await usedPrefixes();
    let net = '';
    for (let attempt = 0; attempt < 100 && !net; attempt++) {
      const candidate = `10.${randomInt(16, 250)}.${randomInt(1, 255)}`;
      if (!used.some((p) => cidrsOverlap(p, `${candidate}.0/24`))) net = candidate;
    }
    if (!net) throw new Error('no free 10.x.y.0/24 found');
    const tag = `fst${process.pid.toString(36)}${randomInt(36 ** 3).toString(36).padStart(3, '0')}`.slice(0, 13);
    const lab = new NetLab(tag, net);
    try {
      await lab.build(hosts);
    } catch (e) {
      await lab.dispose();
      throw e;
    }
    return lab;
  }

  private async build(n: number): Promise<void> {
    const sw = this.switchNs;
    await ip('netns', 'add', sw);
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', sw, 'link', 'set', 'lo', 'up');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    // Root namespace <-> switch: the peer is created straight inside the switch namespace.
    await ip('link', 'add', this.rootLink, 'type', 'veth', 'peer', 'name', 'up0', 'netns', sw);
    await ip('-n', sw, 'link', 'set', 'up0', 'master', 'br0');
    await ip('-n', sw, 'link', 'set', 'up0', 'up');
    await ip('addr', 'add', `${this.rootAddress}/24`, 'dev', this.rootLink);
    await ip('link', 'set', this.rootLink, 'up');
    for (let i = 0; i < n; i++) {
      const h: NetHost = { index: i, ns: `${this.tag}-h${i}`, address: `${this.net}.${10 + i}`, port: `h${i}` };
      await ip('netns', 'add', h.ns);
      this.hosts.push(h);
      await ip('-n', sw, 'link', 'add', h.port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns);
      await ip('-n', sw, 'link', 'set', h.port, 'master', 'br0');
      await ip('-n', sw, 'link', 'set', h.port, 'up');
      await ip('-n', h.ns, 'link', 'set', 'lo', 'up');
      await ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      await ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
    }
  }

  host(i: number): NetHost {
    const h = this.hosts[i];
    if (!h) throw new RangeError(`no host ${i}`);
    return h;
  }

  /** Partitions host i from everyone: its bridge port goes down. */
  async cut(i: number): Promise<void> {
    await ip('-n', this.switchNs, 'link', 'set', this.host(i).port, 'down');
  }

  /** Plugs host i back in. */
  async heal(i: number): Promise<void> {
    await ip('-n', this.switchNs, 'link', 'set', this.host(i).port, 'up');
  }

  /** Spawns `cmd args` inside host i's namespace; `dispose()` kills it (by PID) if still running. */
  exec(i: number, cmd: string, args: string[] = [], options: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.host(i).ns, cmd, ...args], options);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Every namespace this lab made that still exists. */
  async leftovers(): Promise<{ namespaces: string[]; rootLink: boolean }> {
    const namespaces = (await ip('netns', 'list')).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${this.tag}-`));
    const rootLink = (await ip('-o', 'link', 'show')).split('\n').some((l) => l.split(': ')[1]?.split('@')[0] === this.rootLink);
    return { namespaces, rootLink };
  }

  /** Kills the processes exec started and deletes every namespace and link of the lab. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    process.removeListener('exit', this.onExit);
    await Promise.all([...this.children].map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    })));
    // A namespace goes with its last process; deleting it destroys its veth ends and their peers.
    for (const ns of [...this.hosts.map((h) => h.ns), this.switchNs]) await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', this.rootLink).catch(() => undefined);
  }

  /** The same, synchronously, for process exit. */
  private disposeSync(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [...this.hosts.map((h) => h.ns), this.switchNs]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    try {
      execFileSync('ip', ['link', 'del', this.rootLink], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
