/**
 * The master's side of chunk access tokens (common/security/chunk-token.ts): every chunk location
 * it hands out carries a token for what the caller asked, read (LocateChunks) or write
 * (AllocateChunk), at the location's version. The key is made at the cluster's first start and
 * kept in `<data>/tls/token.key` (mode 0600), so that tokens survive a master restart.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signChunkToken } from '../../common/security/chunk-token.js';
import type { fst } from '../../proto-gen/fst.js';

/** How long a token lets its holder use a chunk. Writers re-ask within a lease; readers on ESTALE. */
export const TOKEN_LIFETIME_MS = 10 * 60_000;

export class ChunkTokenSigner {
  constructor(readonly key: Buffer, private readonly lifetimeMs = TOKEN_LIFETIME_MS) {}

  /** Adds a token to each location: for writing, or only reading. */
  sign(locations: Iterable<fst.IChunkLocation | null | undefined>, write: boolean): void {
    const expiresMs = Date.now() + this.lifetimeMs;
    for (const loc of locations) {
      if (!loc) continue;
      loc.token = signChunkToken(this.key, { chunkId: Number(loc.chunkId), version: Number(loc.version), write, expiresMs });
    }
  }
}

export async function loadOrCreateTokenKey(tlsDir: string): Promise<Buffer> {
  const path = join(tlsDir, 'token.key');
  try {
    const key = await readFile(path);
    if (key.length >= 32) return key;
  } catch {
    // none yet: made below
  }
  const key = randomBytes(32);
  await writeFile(path, key, { mode: 0o600 });
  return key;
}
