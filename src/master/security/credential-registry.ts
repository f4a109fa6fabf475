/**
 * The credentials this cluster issued (the `credentials` table) and the one question every call
 * asks of them: is the certificate at the other end one we issued and did not revoke? Rows are
 * few (one per client, chunkserver and operator) and read on every call, so all of them are kept
 * in memory and changed only through this class, in the same step as the table.
 */
import { issueCertificate, type CaMaterial } from '../../common/security/cluster-ca.js';
import type { Credentials } from '../../common/security/credentials-file.js';
import type { Principal, Role } from '../../common/security/principal.js';
import { FsError } from '../../common/errors/errno.js';
import type { MasterDb } from '../db/database.js';

import { IDENTITY_MAP, NOBODY, type CallerMap, type IdPair } from '../../common/caller-map.js';

export type { IdPair } from '../../common/caller-map.js';

/** What a credential may do, as the master records it. */
export interface CredentialRecord {
  serial: string;
  name: string;
  role: Exclude<Role, 'master'>;
  /** Absolute path of the subtree it is confined to ('/' for the whole tree). */
  path: string;
  readOnly: boolean;
  /** Who its root callers become; undefined: nobody (admin credentials keep root). */
  mapRoot: IdPair | undefined;
  /** Who every caller becomes; undefined: callers keep their ids. */
  mapAll: IdPair | undefined;
  createdMs: number;
  revokedMs: number | undefined;
}

export interface NewCredential {
  name: string;
  role: Exclude<Role, 'master'>;
  path?: string;
  readOnly?: boolean;
  mapRoot?: IdPair;
  mapAll?: IdPair;
}

type Row = {
  serial: string; name: string; role: string; path: string; read_only: number;
  map_root: string | null; map_all: string | null; created_ms: number; revoked_ms: number | null;
};

export function parseIdPair(s: string, what: string): IdPair {
  const m = /^(\d{1,10}):(\d{1,10})$/.exec(s);
  const uid = Number(m?.[1]);
  const gid = Number(m?.[2]);
  if (!m || uid > 0xffff_ffff || gid > 0xffff_ffff) throw new FsError('EINVAL', `${what} must be UID:GID (numbers), not '${s}'`);
  return { uid, gid };
}

/** Who a credential's callers act as: admins keep theirs; others lose root unless mapped back to it. */
export function callerMapOf(r: CredentialRecord): CallerMap {
  if (r.role === 'admin') return IDENTITY_MAP;
  return { root: r.mapRoot && r.mapRoot.uid === 0 ? undefined : (r.mapRoot ?? NOBODY), all: r.mapAll };
}

const pairText = (p: IdPair | undefined): string | null => (p ? `${p.uid}:${p.gid}` : null);

function fromRow(r: Row): CredentialRecord {
  return {
    serial: r.serial, name: r.name, role: r.role as CredentialRecord['role'], path: r.path, readOnly: r.read_only === 1,
    mapRoot: r.map_root === null ? undefined : parseIdPair(r.map_root, 'map_root'),
    mapAll: r.map_all === null ? undefined : parseIdPair(r.map_all, 'map_all'),
    createdMs: r.created_ms, revokedMs: r.revoked_ms ?? undefined,
  };
}

/** A normalized absolute path: '/', or '/a/b' without '.', '..', doubled or trailing slashes. */
export function normalizeSubtree(path: string): string {
  if (!path.startsWith('/')) throw new FsError('EINVAL', `a credential's path must be absolute, not '${path}'`);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new FsError('EINVAL', `a credential's path may not contain '..': '${path}'`);
  return `/${parts.join('/')}`;
}

export class CredentialRegistry {
  private readonly bySerial = new Map<string, CredentialRecord>();

  private constructor(private readonly db: MasterDb, private readonly ca: CaMaterial) {}

  static async load(db: MasterDb, ca: CaMaterial): Promise<CredentialRegistry> {
    const reg = new CredentialRegistry(db, ca);
    for (const r of await db.reader.all<Row>('SELECT * FROM credentials')) reg.bySerial.set(r.serial, fromRow(r));
    return reg;
  }

  /** Issues a certificate for a new credential and records it; the name must not be in use. */
  async create(c: NewCredential): Promise<Credentials> {
    const path = normalizeSubtree(c.path ?? '/');
    if (this.active(c.name)) throw new FsError('EEXIST', `a credential named '${c.name}' exists (revoke it first)`);
    if (c.mapRoot && c.mapAll) throw new FsError('EINVAL', 'a credential maps root or all callers, not both');
    let issued;
    try {
      issued = await issueCertificate(this.ca, c.name, c.role);
    } catch (e) {
      throw new FsError('EINVAL', (e as Error).message);
    }
    const rec: CredentialRecord = {
      serial: issued.serial, name: c.name, role: c.role, path, readOnly: c.readOnly ?? false,
      mapRoot: c.mapRoot, mapAll: c.mapAll, createdMs: Date.now(), revokedMs: undefined,
    };
    await this.db.write(async (tx) => {
      // Checked again inside the writer: two creates of one name cannot both pass.
      const taken = await tx.get('SELECT serial FROM credentials WHERE name = ? AND revoked_ms IS NULL', [c.name]);
      if (taken) throw new FsError('EEXIST', `a credential named '${c.name}' exists (revoke it first)`);
      await tx.run(
        'INSERT INTO credentials (serial, name, role, path, read_only, map_root, map_all, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [rec.serial, rec.name, rec.role, rec.path, rec.readOnly ? 1 : 0, pairText(rec.mapRoot), pairText(rec.mapAll), rec.createdMs],
      );
    });
    this.bySerial.set(rec.serial, rec);
    return { name: c.name, role: c.role, ca: this.ca.certPem, cert: issued.certPem, key: issued.keyPem };
  }

  /** The unrevoked credential named `name`, if any. */
  active(name: string): CredentialRecord | undefined {
    for (const r of this.bySerial.values()) if (r.name === name && r.revokedMs === undefined) return r;
    return undefined;
  }

  list(): CredentialRecord[] {
    return [...this.bySerial.values()].sort((a, b) => a.name.localeCompare(b.name) || a.createdMs - b.createdMs);
  }

  /** Revokes the credential named `name`: from the next call on, its certificate is refused. */
  async revoke(name: string): Promise<CredentialRecord> {
    const rec = this.active(name);
    if (!rec) throw new FsError('ENOENT', `no credential named '${name}'`);
    const now = Date.now();
    await this.db.write((tx) => tx.run('UPDATE credentials SET revoked_ms = ? WHERE serial = ?', [now, rec.serial]));
    rec.revokedMs = now;
    return rec;
  }

  /** The record of the caller's credential; EACCES if the cluster never issued it or revoked it. */
  check(p: Principal): CredentialRecord {
    const rec = this.bySerial.get(p.serial);
    if (!rec || rec.name !== p.name) throw new FsError('EACCES', `credential '${p.name}' is not known to this master`);
    if (rec.revokedMs !== undefined) throw new FsError('EACCES', `credential '${p.name}' was revoked`);
    return rec;
  }
}
