/**
 * fstadmin du PATH: what a tree holds. Walks the tree with a recursive query over directory
 * entries (each inode once, so hard links count once); stored bytes are each chunk's length (from
 * the file size) times its current replicas on live servers.
 */
import { CHUNK_SIZE } from '../../common/ids.js';
import type { fst } from '../../proto-gen/fst.js';
import { resolvePath } from '../tree/paths.js';
import type { AdminDeps } from './admin-deps.js';

export async function diskUsage(deps: AdminDeps, req: fst.IDiskUsageRequest): Promise<fst.IDiskUsageResponse> {
  const q = deps.db.reader;
  const root = await resolvePath(q, req.path ?? '');
  const alive = deps.registry.alive().map((s) => s.id).join(',') || '0';
  const tree = `WITH RECURSIVE tree(ino) AS (SELECT CAST(? AS INTEGER) UNION SELECT d.ino FROM dentries d JOIN tree t ON d.parent = t.ino)`;
  const counts = await q.get<{ files: number; dirs: number; bytes: number }>(
    `${tree} SELECT COALESCE(SUM(CASE WHEN i.type = 1 THEN 1 ELSE 0 END), 0) AS files, COALESCE(SUM(CASE WHEN i.type = 2 THEN 1 ELSE 0 END), 0) AS dirs,
       COALESCE(SUM(CASE WHEN i.type = 1 THEN i.size ELSE 0 END), 0) AS bytes
     FROM tree t JOIN inodes i ON i.ino = t.ino`,
    [root.ino],
  );
  const stored = await q.get<{ chunks: number; stored: number }>(
    `${tree} SELECT COUNT(*) AS chunks, COALESCE(SUM(len * copies), 0) AS stored FROM (
       SELECT MAX(0, MIN(${CHUNK_SIZE}, i.size - c.idx * ${CHUNK_SIZE})) AS len,
         (SELECT COUNT(*) FROM replicas r WHERE r.chunk_id = c.chunk_id AND r.version = c.version AND r.server_id IN (${alive})) AS copies
       FROM tree t JOIN inodes i ON i.ino = t.ino AND i.type = 1 JOIN chunks c ON c.ino = i.ino
     ) AS per_chunk`,
    [root.ino],
  );
  return {
    files: counts?.files ?? 0,
    directories: counts?.dirs ?? 0,
    logicalBytes: counts?.bytes ?? 0,
    storedBytes: stored?.stored ?? 0,
    chunks: stored?.chunks ?? 0,
  };
}
