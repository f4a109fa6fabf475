/**
 * A credential file: what a client, chunkserver or the master itself presents to the cluster. One
 * JSON document, mode 0600: the credential's name and role, the cluster CA's certificate (to check
 * servers by), the credential's certificate and its private key. Whoever can read the file holds
 * the credential.
 */
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { FsError } from '../errors/errno.js';
import { isRole, type Role } from './principal.js';

export interface Credentials {
  readonly name: string;
  readonly role: Role;
  /** The cluster CA's certificate (PEM). */
  readonly ca: string;
  /** This credential's certificate (PEM), signed by the CA. */
  readonly cert: string;
  /** Its private key (PEM, PKCS#8). */
  readonly key: string;
}

const FORMAT = 'fst-credentials-1';

export function encodeCredentials(c: Credentials): string {
  return `${JSON.stringify({ format: FORMAT, name: c.name, role: c.role, ca: c.ca, cert: c.cert, key: c.key }, null, 2)}\n`;
}

/** Writes `c` to `path` with mode 0600, atomically (a reader never sees half a key). */
export async function writeCredentials(path: string, c: Credentials): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, encodeCredentials(c), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export function parseCredentials(text: string, source: string): Credentials {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new FsError('EINVAL', `${source} is not an FST credential file (not JSON)`);
  }
  const d = doc as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || d.format !== FORMAT) throw new FsError('EINVAL', `${source} is not an FST credential file`);
  const { name, role, ca, cert, key } = d;
  if (typeof name !== 'string' || !isRole(role) || typeof ca !== 'string' || typeof cert !== 'string' || typeof key !== 'string') {
    throw new FsError('EINVAL', `${source}: a credential file needs name, role, ca, cert and key`);
  }
  try {
    new X509Certificate(cert);
    new X509Certificate(ca);
  } catch {
    throw new FsError('EINVAL', `${source}: its certificates do not parse`);
  }
  return { name, role, ca, cert, key };
}

/** A credential given as loaded, as a file's path, or not at all (plaintext). */
export type CredentialsSource = Credentials | string | undefined;

export async function resolveCredentials(c: CredentialsSource): Promise<Credentials | undefined> {
  return typeof c === 'string' ? readCredentials(c) : c;
}

/** Reads a credential file, with an error that says which file and why. */
export async function readCredentials(path: string): Promise<Credentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FsError(code === 'ENOENT' ? 'ENOENT' : 'EACCES', `cannot read credential file ${path}: ${(e as Error).message}`);
  }
  return parseCredentials(text, path);
}
