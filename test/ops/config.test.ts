/**
 * The real daemons (bin/fst-master.js, bin/fst-chunkserver.js, bin/fst-mount.js) with a --config
 * file: a valid file is honoured and a flag overrides it; a misspelt key or a bad value stops the
 * daemon at once with exit status 2 and one stderr line naming the file and the key.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build.js';
import { Cleanup } from '../helpers/cleanup.js';
import { runCli } from '../helpers/cli.js';
import { DaemonProcess, REPO_ROOT } from '../helpers/daemon-process.js';
import { newMetaConfigLines } from '../helpers/meta-engine.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

beforeAll(() => ensureBuilt('common/config/daemon-config.js', ['src/common/config', 'src/master', 'src/chunkserver', 'src/client/fuse']), 300_000);

/** The master's default replication goal, from `fstadmin status --json`. */
/** The master's default goal, asked with the admin credential it wrote into `dataDir`. */
async function defaultReplication(master: string, dataDir: string): Promise<number> {
  const r = await runCli('fstadmin', ['--master', master, '--credentials', join(dataDir, 'admin.credentials'), 'status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { defaultReplication: number }).defaultReplication;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fst-config-'));
  cleanup.add(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function configFile(dir: string, name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** Starts a daemon that must come up; stopped (SIGTERM, then SIGKILL) after the test. */
async function startDaemon(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  const d = await DaemonProcess.start(bin, `${bin}.js`, args, env);
  cleanup.add(() => d.stop());
  return d;
}

/** Runs a daemon that must refuse to start; killed by PID if it is still running after 60 s. */
async function runRefused(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', `${bin}.js`), ...args], {
    env: { ...process.env, FST_CONFIG: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  cleanup.add(async () => {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await exited;
  return { code, stderr, ms: Date.now() - t0 };
}

function expectRefused(r: { code: number | null; stderr: string; ms: number }, line: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr.trimEnd()).toMatch(line);
  expect(r.ms).toBeLessThan(60_000); // it exits at once, never waits to be killed
}

describe('fst-master --config', () => {
  it('honours a valid file, and a flag overrides it', async () => {
    const dir = await tempDir();
    const config = await configFile(dir, 'master.toml', [
      '# a master for this test',
      'listen = "127.0.0.1:0"',
      'replication = 3',
      `data = "${join(dir, 'meta')}"`,
      'log-level = "info"',
      ...(await newMetaConfigLines()),
    ]);
    const fromFile = await startDaemon('fst-master', ['--config', config]);
    expect(fromFile.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(existsSync(join(dir, 'meta')), 'data directory from the file').toBe(true);
    expect(await defaultReplication(fromFile.address, join(dir, 'meta'))).toBe(3);
    await fromFile.stop();

    // A flag beats the file; FST_CONFIG names the file as --config does.
    const overridden = await startDaemon('fst-master', ['--replication', '1', '--data', join(dir, 'meta2')], { FST_CONFIG: config });
    expect(await defaultReplication(overridden.address, join(dir, 'meta2'))).toBe(1);
    expect(existsSync(join(dir, 'meta2'))).toBe(true);
  });

  it('refuses a misspelt key, naming it and suggesting the right one', async () => {
    const dir = await tempDir();
    const config = await configFile(dir, 'master.toml', ['listen = "127.0.0.1:0"', `data = "${join(dir, 'meta')}"`, 'replicaton = 2']);
    const r = await runRefused('fst-master', ['--config', config]);
    expectRefused(r, new RegExp(`^fst-master: ${config}: unknown key 'replicaton' \\(did you mean 'replication'\\?\\)$`));
    expect(existsSync(join(dir, 'meta')), 'nothing was created').toBe(false);
  });

  it('refuses a value of the wrong type, naming the key', async () => {
    const dir = await tempDir();
    const config = await configFile(dir, 'master.toml', ['listen = "127.0.0.1:0"', `data = "${join(dir, 'meta')}"`, 'replication = "two"']);
    expectRefused(await runRefused('fst-master', ['--config', config]),
      new RegExp(`^fst-master: ${config}: key 'replication' must be a positive integer, not "two"$`));
  });

  it('refuses TOML syntax errors with the line, and a missing file', async () => {
    const dir = await tempDir();
    const config = await configFile(dir, 'master.toml', ['listen = "127.0.0.1:0"', 'replication = ', 'sync = "full"']);
    expectRefused(await runRefused('fst-master', ['--config', config]), new RegExp(`^fst-master: ${config}: line 2: `));
    expectRefused(await runRefused('fst-master', ['--config', join(dir, 'none.toml')]),
      new RegExp(`^fst-master: cannot read config file ${join(dir, 'none.toml')}: no such file$`));
  });

  it('refuses a bad environment variable, naming it', async () => {
    const dir = await tempDir();
    expectRefused(await runRefused('fst-master', ['--data', join(dir, 'meta'), '--listen', '127.0.0.1:0'], { FST_LEASE_MS: 'soon' }),
      /^fst-master: environment FST_LEASE_MS: must be a positive integer, not "soon"$/);
  });
});

describe('fst-chunkserver and fst-mount --config', () => {
  it('fst-chunkserver refuses an unknown key', async () => {
    const dir = await tempDir();
    const config = await configFile(dir, 'chunkserver.toml', [
      'master = "127.0.0.1:1"', `data = ["${join(dir, 'cs')}"]`, 'listen = "127.0.0.1:0"', 'scrub-rate = 4',
    ]);
    expectRefused(await runRefused('fst-chunkserver', ['--config', config]),
      new RegExp(`^fst-chunkserver: ${config}: unknown key 'scrub-rate' \\(did you mean 'scrub-rate-mib'\\?\\)$`));
    expect(existsSync(join(dir, 'cs'))).toBe(false);
  });

  it('fst-chunkserver starts from a file with a list of data directories', async () => {
    const dir = await tempDir();
    const config = await configFile(dir, 'chunkserver.toml', [
      'master = "127.0.0.1:1"', `data = ["${join(dir, 'd1')}", "${join(dir, 'd2')}"]`, 'listen = "127.0.0.1:0"', 'reserve = "1M"',
    ]);
    const cs = await startDaemon('fst-chunkserver', ['--config', config]);
    expect(cs.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(existsSync(join(dir, 'd1')) && existsSync(join(dir, 'd2'))).toBe(true);
  });

  it('fst-mount refuses a bad key before it mounts or detaches', async () => {
    const dir = await tempDir();
    const config = await configFile(dir, 'mount.toml', ['master = "127.0.0.1:1"', 'cache-size = "big"']);
    expectRefused(await runRefused('fst-mount', ['--config', config, join(dir, 'mnt')]),
      new RegExp(`^fst-mount: ${config}: key 'cache-size' must be a non-negative number, not "big"$`));
  });
});
