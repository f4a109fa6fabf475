/**
 * fstadmin decommission / forget: draining a chunkserver and, once it is drained and stopped,
 * forgetting it. A draining server takes no new replica and its copies stop counting towards goals,
 * so re-replication copies its chunks to servers in service and then deletes its copies (trim.ts);
 * it keeps serving reads meanwhile. It is drained when the master records no replica on it.
 */
import { FsError } from '../../common/errors/errno.js';
import type { fst } from '../../proto-gen/fst.js';
import type { ServerInfo } from '../servers/registry.js';
import type { AdminDeps } from './admin-deps.js';
import { serverStatus } from './cluster-status.js';

function findServer(deps: AdminDeps, name: string | null | undefined): ServerInfo {
  const s = deps.registry.find((name ?? '').trim());
  if (!s) throw new FsError('ENOENT', `no chunkserver ${JSON.stringify(name ?? '')} (give its host:port or id, as status lists them)`);
  return s;
}

async function replicaCount(deps: AdminDeps, serverId: number): Promise<number> {
  return (await deps.db.reader.get<{ n: number }>('SELECT COUNT(*) AS n FROM replicas WHERE server_id = ?', [serverId]))?.n ?? 0;
}

export async function decommission(deps: AdminDeps, req: fst.IDecommissionRequest): Promise<fst.IDecommissionResponse> {
  const s = findServer(deps, req.server);
  const draining = !req.cancel;
  if (s.draining !== draining) {
    await deps.registry.setDraining(s.id, draining);
    deps.chunks.replication.poke();
  }
  return { server: serverStatus(deps, s, await replicaCount(deps, s.id)) };
}

export async function forgetChunkserver(deps: AdminDeps, req: fst.IForgetChunkserverRequest): Promise<fst.IForgetChunkserverResponse> {
  const s = findServer(deps, req.server);
  if (deps.registry.isAlive(s.id)) throw new FsError('EBUSY', `chunkserver ${s.address} is alive: decommission it, stop it, then forget it`);
  const inService = deps.registry.placeable().map((x) => x.id).join(',') || '0';
  // Chunks of live files that would fall below their goal without this server's copies.
  const needed = await deps.db.reader.get<{ n: number }>(
    `SELECT COUNT(*) AS n FROM replicas mine JOIN chunks c ON c.chunk_id = mine.chunk_id JOIN inodes i ON i.ino = c.ino
     WHERE mine.server_id = ? AND mine.version = c.version AND
       (SELECT COUNT(*) FROM replicas r WHERE r.chunk_id = c.chunk_id AND r.version = c.version AND r.server_id IN (${inService})) < i.replication`,
    [s.id],
  );
  if ((needed?.n ?? 0) > 0) {
    throw new FsError('EBUSY', `chunkserver ${s.address} holds the only copies needed by ${needed!.n} chunks below their goal; bring it back and let it drain`);
  }
  await deps.db.write((tx) => tx.run('DELETE FROM replicas WHERE server_id = ?', [s.id]));
  await deps.registry.forget(s.id);
  deps.log.info('chunkserver forgotten', { serverId: s.id, address: s.address });
  return {};
}
