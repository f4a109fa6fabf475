/**
 * Chunk access tokens (HDFS's block access tokens): the master signs what a client may do to one
 * chunk at one version (read, or write which includes read) until when, and chunkservers check the
 * signature before they serve ReadChunk or WriteChunk. HMAC-SHA256 under a key that only the master
 * and its chunkservers hold (the master hands it to each chunkserver at registration, over TLS).
 *
 * Layout (58 bytes): format 1 | mode (1 read, 2 write) | chunk id u64 | version u64 | expiry ms u64 |
 * HMAC-SHA256 of the 26 bytes before it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { FsError } from '../errors/errno.js';

const FORMAT = 1;
const READ = 1;
const WRITE = 2;
const BODY = 26;
export const TOKEN_BYTES = BODY + 32;
/** Tokens outlive their expiry by this much on a chunkserver whose clock runs behind the master's. */
const CLOCK_SLACK_MS = 30_000;

export interface TokenGrant {
  chunkId: number;
  version: number;
  write: boolean;
  /** Date.now() on the master's clock after which the token is refused. */
  expiresMs: number;
}

export function signChunkToken(key: Buffer, g: TokenGrant): Buffer {
  const t = Buffer.allocUnsafe(TOKEN_BYTES);
  t[0] = FORMAT;
  t[1] = g.write ? WRITE : READ;
  t.writeBigUInt64BE(BigInt(g.chunkId), 2);
  t.writeBigUInt64BE(BigInt(g.version), 10);
  t.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(g.expiresMs))), 18);
  createHmac('sha256', key).update(t.subarray(0, BODY)).digest().copy(t, BODY);
  return t;
}

/**
 * Tokens whose signature was found good under one key, by their bytes: a client uses one token for
 * every read or write of a chunk for minutes, and an HMAC-SHA256 per call was about 30 us of a
 * chunkserver's 330 us of CPU per 4 KiB random read. Only the signature is remembered; what the
 * token allows and its expiry are checked at every use.
 */
export class SignedTokens {
  private readonly signed = new LRUCache<string, true>({ max: 16_384 });
  private key: Buffer | undefined;

  /** Whether `t` was found signed by `key` (a new key forgets every token). */
  has(key: Buffer, t: Buffer): boolean {
    if (key !== this.key) {
      this.signed.clear();
      this.key = key;
      return false;
    }
    return this.signed.has(t.toString('latin1'));
  }

  add(t: Buffer): void {
    this.signed.set(t.toString('latin1'), true);
  }
}

/**
 * Checks that `token` lets its holder do `want` to chunk `chunkId` at `version` now: EACCES for a
 * missing, forged or mismatched token; ESTALE for one past its expiry (the client asks the master
 * again, as for a chunk whose version moved). `signed`: tokens already verified under `key`.
 */
export function checkChunkToken(
  key: Buffer, token: Uint8Array | null | undefined, want: { chunkId: number; version: number; write: boolean }, nowMs = Date.now(),
  signed?: SignedTokens,
): void {
  if (!token || token.length === 0) throw new FsError('EACCES', `chunk ${want.chunkId}: no access token from the master`);
  const t = Buffer.isBuffer(token) ? token : Buffer.from(token.buffer, token.byteOffset, token.byteLength);
  if (t.length !== TOKEN_BYTES || t[0] !== FORMAT) throw new FsError('EACCES', `chunk ${want.chunkId}: malformed access token`);
  if (!signed?.has(key, t)) {
    const mac = createHmac('sha256', key).update(t.subarray(0, BODY)).digest();
    if (!timingSafeEqual(mac, t.subarray(BODY))) throw new FsError('EACCES', `chunk ${want.chunkId}: access token not signed by this cluster's master`);
    signed?.add(t);
  }
  const mode = t[1];
  if (Number(t.readBigUInt64BE(2)) !== want.chunkId) throw new FsError('EACCES', `chunk ${want.chunkId}: the access token is for another chunk`);
  if (want.write && mode !== WRITE) throw new FsError('EACCES', `chunk ${want.chunkId}: the access token allows reading only`);
  if (Number(t.readBigUInt64BE(10)) !== want.version) {
    throw new FsError('ESTALE', `chunk ${want.chunkId}: the access token is for version ${t.readBigUInt64BE(10)}, not ${want.version}`);
  }
  if (Number(t.readBigUInt64BE(18)) + CLOCK_SLACK_MS < nowMs) throw new FsError('ESTALE', `chunk ${want.chunkId}: the access token expired`);
}
