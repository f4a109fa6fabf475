/**
 * The workload of the several-masters tests: `cp -r` of a source tree of a few thousand files
 * (FST's sources and three node_modules packages) into a mount, beside a 500 MiB stream written to
 * it whose sha256 is taken on the way. `start` returns once both are well under way (300 files
 * copied, then the stream past 50 MiB); `finish` waits for both and checks what the application saw (exit
 * codes, nothing on stderr), `diff -r`, and the stream's sha256 read back through the mount.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from './daemon-process.js';
import { sh } from './fuse-mount.js';
import { waitFor } from './probes.js';

const MiB = 1024 * 1024;
const TREE_PARTS = ['src', 'node_modules/@grpc', 'node_modules/@typescript-eslint', 'node_modules/protobufjs'];

interface Job {
  done: Promise<{ code: number | null; stderr: string }>;
  finished: () => boolean;
  /** Its exit code and stderr so far. */
  result: () => { code: number | null; stderr: string };
}

/** Runs `cmd` in bash (pipefail); what it exits with and writes on stderr is what the application saw. */
function run(cmd: string): Job {
  const child = spawn('bash', ['-c', `set -o pipefail; ${cmd}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let finished = false;
  let exitCode: number | null = null;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => {
    finished = true;
    exitCode = code;
    resolve({ code, stderr });
  }));
  return { done, finished: () => finished, result: () => ({ code: exitCode, stderr: stderr.slice(0, 2000) }) };
}

/**
 * The size of a file on the mount, 0 while it does not exist. Asynchronous: the test process may
 * carry the masters' database traffic (tcp-forward.ts), which a blocking stat would hold up.
 */
async function sizeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.size, () => 0);
}

export class CopyAndWrite {
  private constructor(private readonly tree: string, private readonly mountDir: string, private readonly scratch: string,
    private readonly bigMiB: number, private readonly copy: Job, private readonly write: Job) {}

  /** Builds the tree in `scratch` and starts both jobs into `mountDir`; resolves once both are under way. */
  static async start(mountDir: string, scratch: string, bigMiB = 500): Promise<CopyAndWrite> {
    const tree = join(scratch, 'tree');
    await sh(`mkdir -p ${tree} && ${TREE_PARTS.map((p) => `cp -r ${join(REPO_ROOT, p)} ${tree}/`).join(' && ')}`);
    expect(Number((await sh(`find ${tree} -type f | wc -l`)).trim()), 'files in the tree').toBeGreaterThan(2000);
    const big = join(mountDir, 'big');
    // The copy first: thousands of small files take many seconds, so it is still going once the
    // stream, started second and faster, is under way (the other order let a fast stream end
    // while the copy reached its 300 files on a busy machine).
    const copy = run(`cp -r ${tree} ${join(mountDir, 'tree')}`);
    await CopyAndWrite.underWay('cp -r', copy, '300 files copied',
      async () => Number((await sh(`find ${join(mountDir, 'tree')} -type f 2>/dev/null | wc -l`)).trim()) >= 300);
    const write = run(`head -c ${bigMiB * MiB} /dev/urandom | tee >(sha256sum | cut -d' ' -f1 > ${scratch}/big.sha) > ${big}`);
    await CopyAndWrite.underWay(`the ${bigMiB} MiB write`, write, '50 MiB written', async () => (await sizeOf(big)) >= 50 * MiB);
    return new CopyAndWrite(tree, mountDir, scratch, bigMiB, copy, write);
  }

  /** Waits until `reached`; a job that ends first fails at once, with what it said. */
  private static async underWay(what: string, job: Job, goal: string, reached: () => Promise<boolean>): Promise<void> {
    const outcome = await waitFor(goal, async () => (job.finished() ? 'ended' : (await reached()) && 'reached'), 120_000, 100);
    if (outcome === 'ended') throw new Error(`${what} ended before the workload was under way: ${JSON.stringify(job.result())}`);
  }

  /** Neither job has finished. */
  get running(): boolean {
    return !this.copy.finished() && !this.write.finished();
  }

  /** Which job ended, and how (for a failed check of `running`). */
  describe(): string {
    return `cp -r: ${this.copy.finished() ? JSON.stringify(this.copy.result()) : 'running'}; write: ${this.write.finished() ? JSON.stringify(this.write.result()) : 'running'}`;
  }

  /** At least one job has not finished. */
  get anyRunning(): boolean {
    return !this.copy.finished() || !this.write.finished();
  }

  /** Waits for both jobs and checks their outcome and the data. */
  async finish(): Promise<void> {
    const [copied, written] = await Promise.all([this.copy.done, this.write.done]);
    expect(copied, `cp -r: ${copied.stderr.slice(0, 2000)}`).toEqual({ code: 0, stderr: '' });
    expect(written, `the ${this.bigMiB} MiB write: ${written.stderr.slice(0, 2000)}`).toEqual({ code: 0, stderr: '' });
    await sh(`diff -r ${this.tree} ${join(this.mountDir, 'tree')}`, undefined, 300_000);
    const want = (await sh(`cat ${this.scratch}/big.sha`)).trim();
    const got = (await sh(`sha256sum ${join(this.mountDir, 'big')} | cut -d' ' -f1`, undefined, 300_000)).trim();
    expect(got, 'sha256 of the stream read back').toBe(want);
    expect(await sizeOf(join(this.mountDir, 'big'))).toBe(this.bigMiB * MiB);
  }
}
