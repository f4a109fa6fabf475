/**
 * Chunk access tokens with the chunkserver's cache of verified signatures: the cache skips only the
 * HMAC, never the checks of what a token allows, and never accepts bytes it did not verify.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FsError } from '../../src/common/errors/errno.js';
import { SignedTokens, checkChunkToken, signChunkToken } from '../../src/common/security/chunk-token.js';

const errnoOf = (fn: () => void): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof FsError ? e.code : String(e);
  }
};

describe('chunk tokens with SignedTokens', () => {
  it('skips the signature of a token seen before, and still checks chunk, mode, version and expiry', () => {
    const key = randomBytes(32);
    const signed = new SignedTokens();
    const now = Date.now();
    const t = signChunkToken(key, { chunkId: 7, version: 3, write: false, expiresMs: now + 60_000 });
    const want = { chunkId: 7, version: 3, write: false };
    expect(errnoOf(() => checkChunkToken(key, t, want, now, signed))).toBe('no error');
    expect(signed.has(key, t)).toBe(true);
    // Cached, yet what it allows is checked at every use.
    expect(errnoOf(() => checkChunkToken(key, t, { ...want, chunkId: 8 }, now, signed))).toBe('EACCES');
    expect(errnoOf(() => checkChunkToken(key, t, { ...want, write: true }, now, signed))).toBe('EACCES');
    expect(errnoOf(() => checkChunkToken(key, t, { ...want, version: 4 }, now, signed))).toBe('ESTALE');
    expect(errnoOf(() => checkChunkToken(key, t, want, now + 3_600_000, signed))).toBe('ESTALE');
    // The same body with another signature, or another body with the cached signature: refused.
    const forged = Buffer.from(t);
    forged[forged.length - 1]! ^= 1;
    expect(errnoOf(() => checkChunkToken(key, forged, want, now, signed))).toBe('EACCES');
    const longer = Buffer.from(t);
    longer.writeBigUInt64BE(BigInt(now + 3_600_000_000), 18);
    expect(errnoOf(() => checkChunkToken(key, longer, want, now, signed))).toBe('EACCES');
    // A new key (the master re-registered this server) forgets what the old one signed.
    const other = randomBytes(32);
    expect(errnoOf(() => checkChunkToken(other, t, want, now, signed))).toBe('EACCES');
    expect(signed.has(key, t)).toBe(false);
  });
});
