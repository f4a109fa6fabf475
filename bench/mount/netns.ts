/**
 * One network namespace of our own with `lo` up and an extra /32 address on it, for programs that
 * refuse loopback addresses (MooseFS's master turns away chunkservers on 127.0.0.0/8). Programs
 * enter it with `nsenter --net=`, which changes the network namespace only: a FUSE mount made
 * inside still appears in the normal mount namespace (`ip netns exec` would hide it in a private
 * one). The name carries our pid and a random tag, so parallel runs never collide.
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { q, sh } from './system.js';

export class NetNs {
  private deleted = false;

  private constructor(readonly name: string, readonly address: string) {}

  /** Creates the namespace; deletes it again if a later step fails. Needs root. */
  static async create(address: string): Promise<NetNs> {
    const name = `fst-bench-mfs-${process.pid}-${randomInt(36 ** 4).toString(36)}`;
    await sh(`ip netns add ${name}`);
    const ns = new NetNs(name, address);
    try {
      await sh(`ip -n ${name} link set lo up && ip -n ${name} addr add ${address}/32 dev lo`);
    } catch (e) {
      await ns.delete();
      throw e;
    }
    return ns;
  }

  /** The words to put before a command to run it inside (nsenter execs it: the pid stays the command's). */
  get prefix(): string[] {
    return ['nsenter', `--net=/run/netns/${this.name}`];
  }

  /** Runs a command line (bash) inside, resolving with its stdout. */
  run(cmd: string, timeoutMs?: number): Promise<string> {
    return sh(`${this.prefix.join(' ')} bash -c ${q(cmd)}`, timeoutMs);
  }

  /** Deletes the namespace (it goes once its last process has exited). Never throws; idempotent. */
  async delete(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await sh(`ip netns del ${this.name}`).catch(() => undefined);
  }

  /** The same, synchronously, for process exit handlers. */
  deleteSync(): void {
    if (this.deleted) return;
    this.deleted = true;
    try {
      execFileSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
