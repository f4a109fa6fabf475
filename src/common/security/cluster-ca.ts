/**
 * The cluster's certificate authority: made by the master at its first start, it signs the
 * certificate of every credential (the master's own, chunkservers', clients'). ECDSA P-256 keys,
 * made and signed with WebCrypto through @peculiar/x509, so no step needs openssl.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Role } from './principal.js';

type CryptoKey = webcrypto.CryptoKey;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** A certificate authority: its certificate and signing key, PEM encoded. */
export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

/** A certificate issued by the CA, with its private key. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
  /** Hex, upper case, without leading zeros: as node:tls reports a peer's serialNumber. */
  serial: string;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign']);
}

/** A positive serial of 16 random bytes (the top bit cleared, so DER needs no sign byte). */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x10;
  return b.toString('hex').toUpperCase();
}

/** DN values come from operators (credential names): keep them to a safe alphabet. */
export const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export async function createCa(clusterName: string): Promise<CaMaterial> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: `CN=${clusterName} CA, O=FST`,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 20 * YEAR_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}

/**
 * A certificate for credential `name` with `role`, usable both to serve and to call (chunkservers
 * do both with one credential). Servers are checked by CA and role, not by host name (see
 * tls-options.ts), so no address has to be known when a credential is made.
 */
export async function issueCertificate(ca: CaMaterial, name: string, role: Role, validYears = 10): Promise<IssuedCertificate> {
  if (!CREDENTIAL_NAME.test(name)) throw new Error(`invalid credential name '${name}': letters, digits, '.', '_' and '-', at most 64`);
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const serial = newSerial();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${name}, OU=${role}, O=FST`,
    issuer: caCert.subject,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + validYears * YEAR_MS),
    signingKey: await importKey(ca.keyPem),
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey), serial: serial.replace(/^0+/, '') };
}
