/**
 * Spawns one FST daemon (bin/ entry, real process) and waits for its "listening" log line, which
 * carries the address actually bound (daemons listen on port 0 in tests). Keeps the stderr tail for
 * failure messages. Stops by PID: SIGTERM with a grace period, or SIGKILL for fault tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DAEMON_NODE_FLAGS } from '../../src/common/lifecycle/daemon-node-flags.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/**
 * The checkout whose bin/ (and so dist/) the daemons run: this one, or FST_BIN_ROOT's (the mount
 * benchmark's `fst-base` target runs an older build beside this one).
 */
const binRoot = (): string => process.env.FST_BIN_ROOT ?? REPO_ROOT;

export class DaemonProcess {
  /** The last 200 lines the daemon wrote on stderr (for failure messages). */
  readonly tail: string[] = [];
  private exited: Promise<number | null>;
  address = '';

  private constructor(readonly name: string, readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /**
   * Starts `bin` and waits for its `readyMsg` log line (its `address` or `mountpoint` field is kept).
   * `prefix` runs it through a command that execs it, such as `ip netns exec NS` (the PID stays the
   * daemon's).
   */
  static async start(name: string, bin: string, args: string[], env: NodeJS.ProcessEnv = {}, readyMsg = 'listening', prefix: string[] = []): Promise<DaemonProcess> {
    // As the daemons start everywhere else (the bin scripts' shebang, the units): see daemon-node-flags.ts.
    const argv = [...prefix, process.execPath, ...DAEMON_NODE_FLAGS, join(binRoot(), 'bin', bin), ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, FST_LOG_LEVEL: process.env.FST_TEST_LOG_LEVEL ?? 'info', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const d = new DaemonProcess(name, child);
    d.address = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stderr! });
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s:\n${d.tail.join('\n')}`)), 30_000);
      rl.on('line', (line) => {
        d.tail.push(line);
        if (d.tail.length > 200) d.tail.shift();
        try {
          const rec = JSON.parse(line) as { msg?: string; address?: string; mountpoint?: string };
          const where = rec.address ?? rec.mountpoint;
          if (rec.msg === readyMsg && where) {
            clearTimeout(timer);
            resolve(where);
          }
        } catch {
          // not JSON: keep it in the tail only
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before listening:\n${d.tail.join('\n')}`));
      });
    });
    return d;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  /** kill -9. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs` (generous: an orderly stop on a busy machine may take
   * seconds, and tests assert its exit code). Resolves with the exit code (null when killed).
   */
  async stop(graceMs = 30_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}
