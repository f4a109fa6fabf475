/** Runs fstadmin in the test's own process (src/admin/main.ts) with captured output. */
import { PassThrough } from 'node:stream';
import { main } from '../../src/admin/main.js';
import type { CliResult } from './cli.js';
import { withCredentials } from './credentials.js';

/** `fstadmin ARGS` with `env` as its whole environment; its exit status and output. */
export async function fstadminInProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(['node', 'fstadmin', ...withCredentials(args, env)], { stdout, stderr, env });
  return { code, stdout: out, stderr: err };
}
