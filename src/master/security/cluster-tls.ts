/**
 * The cluster's TLS material in the master's data directory, made at its first start: the CA
 * (`tls/ca.crt`, `tls/ca.key`), the master's own credential (`tls/master.credentials`), and the
 * first admin credential (`admin.credentials`, recorded like any other). Files holding keys are
 * mode 0600 and the `tls` directory 0700.
 */
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, type CaMaterial } from '../../common/security/cluster-ca.js';
import { readCredentials, writeCredentials, type Credentials } from '../../common/security/credentials-file.js';
import type { Logger } from '../../common/log/logger.js';
import type { MasterDb } from '../db/database.js';
import { ChunkTokenSigner, loadOrCreateTokenKey } from './chunk-tokens.js';
import { CredentialRegistry } from './credential-registry.js';

export interface ClusterTls {
  ca: CaMaterial;
  /** The master's own credential: its server certificate, and its client one towards chunkservers. */
  master: Credentials;
  credentials: CredentialRegistry;
  /** Where the first admin credential was written. */
  adminCredentialsPath: string;
  /** Signs chunk access tokens (its key goes to chunkservers at registration). */
  tokens: ChunkTokenSigner;
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(() => true, () => false);
}

export async function loadOrCreateClusterTls(dataDir: string, db: MasterDb, log: Logger): Promise<ClusterTls> {
  const dir = join(dataDir, 'tls');
  const caCert = join(dir, 'ca.crt');
  const caKey = join(dir, 'ca.key');
  const masterPath = join(dir, 'master.credentials');
  const adminCredentialsPath = join(dataDir, 'admin.credentials');
  if (!(await exists(caKey))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    const ca = await createCa(`FST ${hostname().slice(0, 40)}`);
    const m = await issueCertificate(ca, 'master', 'master');
    const master: Credentials = { name: 'master', role: 'master', ca: ca.certPem, cert: m.certPem, key: m.keyPem };
    const credentials = await CredentialRegistry.load(db, ca);
    // A first start cut short after recording the admin credential: that one was never handed out.
    if (credentials.active('admin')) await credentials.revoke('admin');
    const admin = await credentials.create({ name: 'admin', role: 'admin' });
    await writeCredentials(masterPath, master);
    await writeCredentials(adminCredentialsPath, admin);
    await writeFile(caCert, ca.certPem, { mode: 0o644 });
    // The key last: its presence says the rest was made.
    await writeFile(caKey, ca.keyPem, { mode: 0o600 });
    log.info('made the cluster CA and an admin credential: use it with --credentials (fst, fstadmin, fst-mount, fst-chunkserver)', {
      adminCredentials: adminCredentialsPath, ca: caCert,
    });
    return { ca, master, credentials, adminCredentialsPath, tokens: new ChunkTokenSigner(await loadOrCreateTokenKey(dir)) };
  }
  const ca = { certPem: await readFile(caCert, 'utf8'), keyPem: await readFile(caKey, 'utf8') };
  const master = await readCredentials(masterPath);
  return {
    ca, master, credentials: await CredentialRegistry.load(db, ca), adminCredentialsPath, tokens: new ChunkTokenSigner(await loadOrCreateTokenKey(dir)),
  };
}
