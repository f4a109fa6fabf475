/**
 * fstadmin gc: runs garbage collection passes now, until a pass forgets nothing more, instead of
 * waiting for the background loop. Deleted chunks whose replicas sit on dead servers stay pending:
 * such a server's full report brings them back as orphans, deleted then.
 */
import type { fst } from '../../proto-gen/fst.js';
import type { AdminDeps } from './admin-deps.js';

/** Passes at most (each handles a batch of deleted chunks). */
const MAX_PASSES = 1_000;

export async function collectGarbage(deps: AdminDeps): Promise<fst.ICollectGarbageResponse> {
  let forgotten = 0;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const n = await deps.chunks.gc.collect();
    forgotten += n;
    if (n === 0) break;
  }
  const pending = (await deps.db.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM deleted_chunks'))?.n ?? 0;
  deps.log.info('garbage collection run by an operator', { forgotten, pending });
  return { chunksForgotten: forgotten, chunksPending: pending };
}
