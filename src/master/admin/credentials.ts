/** fstadmin credentials create / list / revoke: the AdminService side. */
import { FsError } from '../../common/errors/errno.js';
import { encodeCredentials } from '../../common/security/credentials-file.js';
import type { fst } from '../../proto-gen/fst.js';
import { parseIdPair, type CredentialRecord, type CredentialRegistry, type IdPair } from '../security/credential-registry.js';
import type { AdminDeps } from './admin-deps.js';

function registryOf(deps: AdminDeps): CredentialRegistry {
  if (!deps.credentials) throw new FsError('ENOTSUP', 'this master runs --insecure: it has no credentials to manage');
  return deps.credentials;
}

const pair = (p: IdPair | undefined): string => (p ? `${p.uid}:${p.gid}` : '');

export function credentialInfo(r: CredentialRecord): fst.ICredentialInfo {
  return {
    name: r.name, role: r.role, path: r.path, readOnly: r.readOnly, mapRoot: pair(r.mapRoot), mapAll: pair(r.mapAll),
    createdMs: r.createdMs, revokedMs: r.revokedMs ?? 0, serial: r.serial,
  };
}

export async function createCredential(deps: AdminDeps, req: fst.CreateCredentialRequest): Promise<fst.ICreateCredentialResponse> {
  const reg = registryOf(deps);
  const c = req.credential;
  if (!c?.name) throw new FsError('EINVAL', 'a credential needs a name');
  if (c.role !== 'admin' && c.role !== 'chunkserver' && c.role !== 'client') {
    throw new FsError('EINVAL', `a credential's role is admin, chunkserver or client, not '${c.role ?? ''}'`);
  }
  const creds = await reg.create({
    name: c.name, role: c.role, path: c.path || '/', readOnly: c.readOnly ?? false,
    mapRoot: c.mapRoot ? parseIdPair(c.mapRoot, 'map-root') : undefined,
    mapAll: c.mapAll ? parseIdPair(c.mapAll, 'map-all') : undefined,
  });
  deps.log.info('credential created', { name: c.name, role: c.role, path: c.path || '/' });
  return { credentialsFile: encodeCredentials(creds), credential: credentialInfo(reg.active(c.name)!) };
}

export function listCredentials(deps: AdminDeps): Promise<fst.IListCredentialsResponse> {
  return Promise.resolve({ credentials: registryOf(deps).list().map(credentialInfo) });
}

export async function revokeCredential(deps: AdminDeps, req: fst.RevokeCredentialRequest): Promise<fst.IRevokeCredentialResponse> {
  const rec = await registryOf(deps).revoke(req.name);
  deps.log.info('credential revoked', { name: req.name });
  return { credential: credentialInfo(rec) };
}
