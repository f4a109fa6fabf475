/**
 * What install-units does to the running system beyond writing files: create the fst user and tell
 * systemd about the new units. Every step returns the line to print, so the operator sees exactly
 * what ran.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { CliError } from '../../cli/errors.js';

const execFileAsync = promisify(execFile);

export const FST_USER = 'fst';

/** Runs a command, failing with a CliError that carries its stderr's last line. */
export async function runCommand(file: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(file, args);
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim().split('\n').pop();
    throw new CliError(`${[file, ...args].join(' ')} failed${stderr ? `: ${stderr}` : ''}`, 'EIO', 1, { cause: e });
  }
}

/** `name` found on PATH or in the sbin directories a non-login root shell may lack. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean);
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** True when systemd is this machine's init (sd_booted(3) checks the same directory). */
export function systemdIsRunning(): boolean {
  return existsSync('/run/systemd/system');
}

async function userExists(name: string): Promise<boolean> {
  try {
    await execFileAsync('getent', ['passwd', name]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates the fst user and group: systemd-sysusers from the installed sysusers.d file where it
 * exists (idempotent, and the same file recreates the user on an image's first boot), else useradd.
 */
export async function createFstUser(sysusersFile: string): Promise<string> {
  const sysusers = findExecutable('systemd-sysusers');
  if (sysusers) {
    await runCommand(sysusers, [sysusersFile]);
    return `user ${FST_USER}: ensured by ${sysusers} ${sysusersFile}`;
  }
  if (await userExists(FST_USER)) return `user ${FST_USER}: exists`;
  const useradd = findExecutable('useradd');
  if (!useradd) throw new CliError(`cannot create user ${FST_USER}: neither systemd-sysusers nor useradd found`, 'ENOENT');
  await runCommand(useradd, ['--system', '--user-group', '--home-dir', '/var/lib/fst', '--no-create-home',
    '--shell', '/usr/sbin/nologin', '--comment', 'FST distributed filesystem', FST_USER]);
  return `user ${FST_USER}: created by ${useradd}`;
}

/** Gives `path` to the fst user and group (after createFstUser), for a file only its daemon may read. */
export async function chownToFst(path: string): Promise<string> {
  await runCommand(findExecutable('chown') ?? 'chown', [`${FST_USER}:${FST_USER}`, path]);
  return `owner ${FST_USER}:${FST_USER}: ${path}`;
}

/** systemctl daemon-reload, then enable each unit (not started: configs may still need editing). */
export async function reloadAndEnable(units: readonly string[]): Promise<string[]> {
  const systemctl = findExecutable('systemctl') ?? 'systemctl';
  await runCommand(systemctl, ['daemon-reload']);
  const lines = ['systemd: daemon-reload done'];
  for (const unit of units) {
    await runCommand(systemctl, ['enable', unit]);
    lines.push(`systemd: enabled ${unit}`);
  }
  return lines;
}
