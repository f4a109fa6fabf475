/**
 * Who may call which ChunkserverService method, decided in addService before the handler runs
 * (the caller is the role in its TLS certificate): what changes or lists replicas is the master's
 * alone; checksums are for peers copying a chunk; reads and writes are open to any credential,
 * since each carries the master's signed chunk token (checked by their handlers).
 */
import { FsError } from '../../common/errors/errno.js';
import type { Authorize } from '../../common/rpc/server.js';
import type { Role } from '../../common/security/principal.js';

const ALLOWED: Record<string, readonly Role[]> = {
  CopyChunk: ['master'],
  DeleteChunk: ['master'],
  SetChunkVersion: ['master'],
  ListChunks: ['master'],
  GetChunkChecksums: ['master', 'chunkserver', 'admin'],
};

export const authorizeChunkserverCall: Authorize = (method, ctx) => {
  const roles = ALLOWED[method.name];
  const role = ctx.principal?.role;
  if (roles && (role === undefined || !roles.includes(role))) {
    throw new FsError('EACCES', `${method.name} is for the master and its chunkservers, not a ${role ?? 'caller without a credential'}`);
  }
};
