/**
 * The admin credential of each test cluster, by master address: clusters register theirs when the
 * master starts, and the helpers that run CLIs and mounts against a master (`--master ADDR`) pass
 * it on unless the test gives `--credentials` (or FST_CREDENTIALS) itself. Tests that check what
 * happens without a credential run the command with `FST_CREDENTIALS: ''` in its environment.
 */
import { cp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IDENTITY_DIRS, IDENTITY_FILES } from '../../src/master/backup/metadata-backups.js';
import { readCredentials, type Credentials } from '../../src/common/security/credentials-file.js';

const byMaster = new Map<string, string>();

/** The admin credential a master writes into its data directory at its first start. */
export function adminCredentialsPath(masterDataDir: string): string {
  return join(masterDataDir, 'admin.credentials');
}

/**
 * Copies a master's cluster identity (what its metadata backups carry beside the database: `tls/`
 * and the admin credential) from data directory `from` into `to`, as an operator does for a
 * standby master or for a data directory made from a dump.
 */
export async function copyIdentity(from: string, to: string): Promise<void> {
  for (const d of IDENTITY_DIRS) await cp(join(from, d), join(to, d), { recursive: true });
  for (const f of IDENTITY_FILES) await cp(join(from, f), join(to, f));
}

export function registerCredentials(master: string, path: string): void {
  byMaster.set(master, path);
}

export function forgetCredentials(master: string): void {
  byMaster.delete(master);
}

export function credentialsFor(master: string): string | undefined {
  return byMaster.get(master);
}

/** The admin credential of `master`, loaded (for in-process clients). */
export async function loadCredentialsFor(master: string): Promise<Credentials> {
  const path = byMaster.get(master);
  if (!path) throw new Error(`no credential registered for master ${master}`);
  return readCredentials(path);
}

/**
 * `args` with `--credentials FILE` added when they (or FST_MASTER in `env`) name a master with a
 * registered credential and neither they nor `env` give one.
 */
export function withCredentials(args: readonly string[], env: NodeJS.ProcessEnv = {}): string[] {
  if (args.includes('--credentials') || env.FST_CREDENTIALS !== undefined) return [...args];
  const i = args.indexOf('--master');
  const master = i >= 0 ? args[i + 1] : env.FST_MASTER;
  const path = master ? byMaster.get(master) : undefined;
  return path ? [...args, '--credentials', path] : [...args];
}

/** TLS options for an in-process client of `master`, as its admin. */
export async function masterTls(master: string): Promise<{ credentials: Credentials; server: 'master' }> {
  return { credentials: await loadCredentialsFor(master), server: 'master' };
}

/**
 * TLS options for a test that calls a chunkserver of `master`'s cluster directly (ListChunks,
 * SetChunkVersion...), which only the master may: the master's own credential.
 */
export async function chunkserverTlsAsMaster(master: string): Promise<{ credentials: Credentials; server: 'chunkserver' }> {
  const path = byMaster.get(master);
  if (!path) throw new Error(`no credential registered for master ${master}`);
  return { credentials: await readCredentials(join(dirname(path), 'tls', 'master.credentials')), server: 'chunkserver' };
}

/** TLS options for an in-process client of `master`'s chunkservers, as its admin. */
export async function chunkserverTls(master: string): Promise<{ credentials: Credentials; server: 'chunkserver' }> {
  return { credentials: await loadCredentialsFor(master), server: 'chunkserver' };
}
