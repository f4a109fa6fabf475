/**
 * The real daemon: `node bin/fst-chunkserver.js` as a child process, found through the "listening"
 * log line, used over gRPC, stopped by signal; and the command line's answers to bad input.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build.js';
import { Cleanup, clientFor, createChunk, pattern, readChunk, tempDir, writeChunk } from './helpers.js';
import { closedPort } from '../helpers/probes.js';
import { parseArgs } from '../../src/chunkserver/main.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'fst-chunkserver.js');
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

beforeAll(() => ensureBuilt('chunkserver/main.js', ['src/chunkserver']), 300_000);

interface Daemon {
  child: ChildProcess;
  address: string;
  exit: Promise<number | null>;
}

async function spawnDaemon(args: string[]): Promise<Daemon> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    await exit;
  });
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; address?: string };
        if (rec.msg === 'listening' && rec.address) resolve(rec.address);
      } catch {
        // not a log line
      }
    });
    void exit.then((code) => reject(new Error(`daemon exited with ${code} before listening`)));
  });
  return { child, address, exit };
}

async function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env }, (err, _stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr }));
  });
}

describe('fst-chunkserver flags', () => {
  it('parses the scrubber flags, with defaults of 4 MiB/s and one hour', () => {
    const base = ['node', 'fst-chunkserver', '--master', '127.0.0.1:1', '--data', '/tmp/x', '--listen', '127.0.0.1:0'];
    expect(parseArgs(base).options).toMatchObject({ scrubRateBytes: 4 * 1024 * 1024, scrubIntervalMs: 3_600_000 });
    expect(parseArgs([...base, '--scrub-rate-mib', '0.5', '--scrub-interval-ms', '1000']).options)
      .toMatchObject({ scrubRateBytes: 512 * 1024, scrubIntervalMs: 1000 });
    expect(parseArgs([...base, '--scrub-rate-mib', '0']).options.scrubRateBytes).toBe(0);
  });
});

describe('fst-chunkserver binary', () => {
  it('serves chunks, keeps them across a restart, and exits 0 on SIGTERM', async () => {
    const dir = join(await tempDir(cleanup), 'data');
    const args = ['--master', `127.0.0.1:${await closedPort()}`, '--data', dir, '--listen', '127.0.0.1:0', '--log-level', 'info'];
    const first = await spawnDaemon(args);
    const c1 = clientFor(cleanup, first.address);
    await createChunk(c1, 61, 2);
    const data = pattern(1_500_000, 61);
    await writeChunk(c1, { chunkId: 61, version: 2 }, [{ offset: 3, data }]);
    process.kill(first.child.pid!, 'SIGTERM');
    expect(await first.exit).toBe(0);

    const second = await spawnDaemon(args);
    const c2 = clientFor(cleanup, second.address);
    expect((await readChunk(c2, 61, 2, 3, data.length)).equals(data)).toBe(true);
    process.kill(second.child.pid!, 'SIGINT');
    expect(await second.exit).toBe(0);
  });

  it('takes the master from FST_MASTER', async () => {
    const dir = join(await tempDir(cleanup), 'data');
    const env = { ...process.env, FST_MASTER: `127.0.0.1:${await closedPort()}` };
    const child = spawn(process.execPath, [bin, '--data', dir, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const exit = new Promise<number | null>((r) => child.once('exit', r));
    cleanup.add(async () => {
      if (child.exitCode === null) process.kill(child.pid!, 'SIGKILL');
      await exit;
    });
    const listening = await new Promise<boolean>((resolve) => {
      createInterface({ input: child.stderr }).on('line', (l) => l.includes('"msg":"listening"') && resolve(true));
      void exit.then(() => resolve(false));
    });
    expect(listening).toBe(true);
  });

  it('rejects bad input with one line on stderr and exit code 2', async () => {
    const dir = join(await tempDir(cleanup), 'data');
    const env = { ...process.env, FST_MASTER: '' };
    const cases = [
      ['--bogus'],
      ['--master', '127.0.0.1:1', '--listen', '127.0.0.1:0'],
      ['--master', 'no-port', '--data', dir, '--listen', '127.0.0.1:0'],
      ['--master', '127.0.0.1:1', '--data', dir, '--listen', '127.0.0.1:99999'],
      ['--data', dir, '--listen', '127.0.0.1:0'],
      ['--master', '127.0.0.1:1', '--data', dir, '--listen', '127.0.0.1:0', '--scrub-rate-mib', '-1'],
      ['--master', '127.0.0.1:1', '--data', dir, '--listen', '127.0.0.1:0', '--scrub-interval-ms', 'soon'],
    ];
    for (const args of cases) {
      const { code, stderr } = await run(args, env);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(/^fst-chunkserver: /);
      expect(stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(dir)).toBe(false);
  });
});
