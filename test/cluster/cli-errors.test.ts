/**
 * The CLIs' contract on bad input: one line on stderr, a non-zero exit, no stack trace — for unknown
 * flags, a master that does not answer, and remote paths that do not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { closedPort } from '../helpers/probes.js';

function expectOneLineError(r: CliResult, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}


describe('CLI errors', () => {
  let cluster: ProcessCluster;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 1, replication: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses unknown flags and missing arguments', async () => {
    expectOneLineError(await runCli('fst', ['--master', cluster.masterAddress, 'ls', '--bogus', '/']), /bogus/);
    expectOneLineError(await runCli('fstadmin', ['--master', cluster.masterAddress, 'status', '--bogus']), /bogus/);
    expectOneLineError(await runCli('fst', ['--master', cluster.masterAddress, 'put']), /argument|missing/i);
    expectOneLineError(await runCli('fst', ['--master', cluster.masterAddress, 'frobnicate']), /frobnicate|unknown command/i);
  });

  it('needs a master address, from --master or FST_MASTER', async () => {
    expectOneLineError(await runCli('fst', ['ls', '/'], { FST_MASTER: '' }), /master/i);
    const viaEnv = await runCli('fst', ['ls', '/'], { FST_MASTER: cluster.masterAddress });
    expect(viaEnv.code).toBe(0);
  });

  it('reports a master that does not answer', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    expectOneLineError(await runCli('fst', ['--master', `127.0.0.1:${port}`, 'ls', '/']), /127\.0\.0\.1/);
    expectOneLineError(await runCli('fstadmin', ['--master', `127.0.0.1:${port}`, 'status']), /127\.0\.0\.1/);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });

  it('reports remote paths that do not exist as ENOENT', async () => {
    const r = await runCli('fst', ['--master', cluster.masterAddress, 'cat', '/no/such/file']);
    expectOneLineError(r, /ENOENT/);
    expectOneLineError(await runCli('fst', ['--master', cluster.masterAddress, 'get', '/nope', '/tmp/fst-should-not-exist']), /ENOENT/);
    expectOneLineError(await runCli('fst', ['--master', cluster.masterAddress, 'rm', '/nope']), /ENOENT/);
    expectOneLineError(await runCli('fst', ['--master', cluster.masterAddress, 'put', '/nonexistent-local-file', '/x']), /ENOENT/);
  });
});
