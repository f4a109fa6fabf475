/**
 * A program the mount benchmark runs in the foreground as its own child (bindfs, the MooseFS
 * daemons, mfsmount), so that it is ours to end by pid: keeps the tail of its output for failure
 * messages, waits until it is ready, and stops it with SIGTERM then SIGKILL, never throwing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { sleep } from './system.js';

export class Child {
  /** The last 100 lines it wrote (stdout and stderr). */
  readonly tail: string[] = [];
  private readonly exited: Promise<void>;

  private constructor(readonly name: string, private readonly child: ChildProcess) {
    this.exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.once('error', (e) => this.keep(`spawn failed: ${e.message}`));
    for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', (l) => this.keep(l));
  }

  /** Spawns `argv` (whose first word may be a wrapper that execs, such as nsenter: the pid stays the program's). */
  static spawn(name: string, argv: string[]): Child {
    return new Child(name, spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 100) this.tail.shift();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of output, for an error message. */
  output(lines = 20): string {
    return this.tail.slice(-lines).join('\n');
  }

  /**
   * Polls `ready` every 50 ms until it holds; throws (with the output tail) if the program exits
   * first or `timeoutMs` passes.
   */
  async waitUntil(what: string, ready: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    for (const t0 = Date.now(); !(await ready()); await sleep(50)) {
      if (!this.running) throw new Error(`${this.name} exited before ${what}:\n${this.output()}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`${this.name}: no ${what} within ${timeoutMs / 1000} s:\n${this.output()}`);
    }
  }

  /** SIGTERM (unless `signal` says otherwise), SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }

  /** Waits up to `ms` for it to exit by itself; true if it did. */
  async exitsWithin(ms: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((res) => (timer = setTimeout(() => res(false), ms)));
    const done = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }

  /** SIGKILL now, without waiting (for process exit handlers). */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
