/**
 * TLS as FST uses it: mutual, with the cluster CA as the only trust root. A server asks every
 * caller for its certificate and refuses one the CA did not sign; a caller checks the server's
 * certificate against the CA and the role it expects there (`master` for the master; a role that
 * may serve chunks for a chunkserver) instead of a host name, so credentials need no addresses and
 * a client credential can never pose as a server. ALPN tells FST's unary transport from gRPC.
 */
import { createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Credentials } from './credentials-file.js';
import { CHUNK_SERVING_ROLES, isRole, type Principal, type Role } from './principal.js';

/** ALPN names: FST's framed unary transport, and HTTP/2 for gRPC. */
export const ALPN_WIRE = 'fst-wire';
export const ALPN_H2 = 'h2';

/** The server a client talks to, which decides the role its certificate must have. */
export type ServerKind = 'master' | 'chunkserver';

const contexts = new WeakMap<Credentials, SecureContext>();

/** One secure context per credential (building one parses keys: not per connection). */
export function secureContextOf(c: Credentials): SecureContext {
  let ctx = contexts.get(c);
  if (!ctx) {
    ctx = createSecureContext({ ca: c.ca, cert: c.cert, key: c.key, minVersion: 'TLSv1.2' });
    contexts.set(c, ctx);
  }
  return ctx;
}

/**
 * Options of a tls.Server (which takes key material, not a secure context). A client certificate
 * the CA did not sign still completes the handshake, unauthorized: the server then refuses every
 * call on it with a reason (RpcServer), which a dropped handshake cannot carry under TLS 1.3.
 */
export function serverTlsOptions(c: Credentials): TlsOptions {
  return { ca: c.ca, cert: c.cert, key: c.key, minVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: false, ALPNProtocols: [ALPN_WIRE, ALPN_H2] };
}

/** Roles a server of this kind may present. */
export function rolesServing(kind: ServerKind): readonly Role[] {
  return kind === 'master' ? ['master'] : CHUNK_SERVING_ROLES;
}

/**
 * node:tls's checkServerIdentity: the chain was verified against the CA already; the certificate
 * must also carry a role that may serve `kind`.
 */
export function serverIdentityCheck(kind: ServerKind): (host: string, cert: PeerCertificate) => Error | undefined {
  const roles = rolesServing(kind);
  return (host, cert) => {
    const role = certField(cert.subject?.OU);
    if (role !== undefined && (roles as readonly string[]).includes(role)) return undefined;
    return Object.assign(new Error(`the server at ${host} presents a certificate for '${role ?? 'no role'}', not a ${kind}`), { code: 'ERR_FST_SERVER_ROLE' });
  };
}

/** The TLS server name clients send: servers are told apart by role, not name. */
export const TLS_SERVER_NAME = 'fst';

export function clientTlsOptions(c: Credentials, kind: ServerKind, alpn: string): {
  secureContext: SecureContext; ALPNProtocols: string[]; servername: string;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined; rejectUnauthorized: true;
} {
  return {
    secureContext: secureContextOf(c), ALPNProtocols: [alpn], servername: TLS_SERVER_NAME, checkServerIdentity: serverIdentityCheck(kind), rejectUnauthorized: true,
  };
}

function certField(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The principal a verified peer certificate names; undefined if it names none FST issued. */
export function principalOfCert(cert: PeerCertificate | undefined): Principal | undefined {
  if (!cert?.subject) return undefined;
  const name = certField(cert.subject.CN);
  const role = certField(cert.subject.OU);
  if (!name || !isRole(role) || !cert.serialNumber) return undefined;
  return { name, role, serial: cert.serialNumber.toUpperCase().replace(/^0+/, '') };
}

/** The principal of an authorized TLS socket (undefined if the handshake did not verify it). */
export function principalOfSocket(socket: TLSSocket): Principal | undefined {
  if (!socket.authorized) return undefined;
  return principalOfCert(socket.getPeerCertificate());
}
