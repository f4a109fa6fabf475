/**
 * The chunkserver's side of chunk access tokens (common/security/chunk-token.ts): ReadChunk and
 * WriteChunk (forwarded ones too) need the master's token for that chunk and version, except calls
 * from the master (which signs them) and reads by a chunkserver copying a chunk the master asked
 * for, or an admin, which carry none. A chunkserver without a credential (a cluster run `--insecure`) checks
 * nothing.
 */
import { FsError } from '../../common/errors/errno.js';
import type { CallContext } from '../../common/rpc/server.js';
import { SignedTokens, checkChunkToken } from '../../common/security/chunk-token.js';

/** The token key as the master gave it at the last registration (in memory only). */
export class TokenKeyHolder {
  key: Buffer | undefined;

  set(key: Buffer): void {
    this.key = key;
  }
}

const PEER_ROLES = new Set(['master', 'chunkserver', 'admin']);

export class ChunkAccess {
  private readonly signed = new SignedTokens();

  constructor(private readonly keys: TokenKeyHolder) {}

  /** Throws EACCES (no or a bad token) or ESTALE (expired, or no key yet: ask the master again). */
  check(ctx: CallContext, token: Uint8Array | null | undefined, want: { chunkId: number; version: number; write: boolean }): void {
    const role = ctx.principal?.role;
    // The master signs tokens: it needs none of its own.
    if (role === 'master') return;
    if (!want.write && (!token || token.length === 0) && role !== undefined && PEER_ROLES.has(role)) return;
    const key = this.keys.key;
    if (!key) throw new FsError('ESTALE', `chunk ${want.chunkId}: this chunkserver has not registered with the master yet`);
    checkChunkToken(key, token, want, Date.now(), this.signed);
  }
}
