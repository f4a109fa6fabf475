/**
 * Who is at the other end of a connection, as its TLS certificate says. The role is the
 * certificate's OU, set by the cluster's CA when it issued the certificate: the master alone holds
 * a `master` certificate; `chunkserver` and `admin` certificates may serve chunks; `client`
 * certificates only call. What a credential may do beyond its role (subtree, read-only, uid maps)
 * is the master's record of it (master/security/), never something the certificate carries.
 */
export const ROLES = ['master', 'chunkserver', 'admin', 'client'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The credential's name (the certificate's CN). */
  readonly name: string;
  readonly role: Role;
  /** The certificate's serial number, hex upper case as node:tls reports it. */
  readonly serial: string;
}

/** Every caller of a daemon started with `--insecure` (a closed test network): no identity at all. */
export const INSECURE_PRINCIPAL: Principal = Object.freeze({ name: '(insecure)', role: 'admin', serial: '' });

export function isRole(s: unknown): s is Role {
  return typeof s === 'string' && (ROLES as readonly string[]).includes(s);
}

/** Roles that may serve chunks: what a client accepts from a chunkserver's certificate. */
export const CHUNK_SERVING_ROLES: readonly Role[] = ['chunkserver', 'admin'];
