/**
 * Replication goals per file or tree, as MooseFS's mfssetgoal/mfsgetgoal: every inode carries its
 * goal; a directory's goal is what files and directories created in it inherit. Setting a goal only
 * changes rows; the replication manager then copies chunks up to it, or trims surplus replicas.
 */
import { FsError } from '../../common/errors/errno.js';
import type { fst } from '../../proto-gen/fst.js';
import type { Reader } from '../db/engine.js';
import { resolvePath } from '../tree/paths.js';
import type { AdminDeps } from './admin-deps.js';

/** Highest goal accepted: beyond it a typo (30 for 3) would fill the cluster. */
export const MAX_GOAL = 16;
const DIRECTORY = 2;

/** The inodes of the tree under `ino` (itself included), each once (hard links too). */
const TREE = `WITH RECURSIVE tree(ino) AS (SELECT CAST(? AS INTEGER) UNION SELECT d.ino FROM dentries d JOIN tree t ON d.parent = t.ino)`;

async function goalSummary(q: Reader, ino: number): Promise<fst.IGoalCount[]> {
  const rows = await q.all<{ goal: number; files: number; dirs: number }>(
    `${TREE} SELECT i.replication AS goal, SUM(CASE WHEN i.type != ${DIRECTORY} THEN 1 ELSE 0 END) AS files, SUM(CASE WHEN i.type = ${DIRECTORY} THEN 1 ELSE 0 END) AS dirs
     FROM tree t JOIN inodes i ON i.ino = t.ino GROUP BY i.replication ORDER BY i.replication`,
    [ino],
  );
  return rows.map((r) => ({ goal: r.goal, files: r.files, directories: r.dirs }));
}

export async function getGoal(deps: AdminDeps, req: fst.IGetGoalRequest): Promise<fst.IGetGoalResponse> {
  const row = await resolvePath(deps.db.reader, req.path ?? '');
  return {
    goal: row.replication,
    directory: row.type === DIRECTORY,
    tree: req.recursive ? await goalSummary(deps.db.reader, row.ino) : [],
  };
}

export async function setGoal(deps: AdminDeps, req: fst.ISetGoalRequest): Promise<fst.ISetGoalResponse> {
  const goal = req.goal ?? 0;
  if (!Number.isInteger(goal) || goal < 1 || goal > MAX_GOAL) {
    throw new FsError('EINVAL', `goal must be between 1 and ${MAX_GOAL}, not ${goal}`);
  }
  const path = req.path ?? '';
  const result = await deps.db.write(async (tx) => {
    const row = await resolvePath(tx, path);
    if (!req.recursive) {
      const changed = row.replication === goal ? 0 : (await tx.run('UPDATE inodes SET replication = ? WHERE ino = ?', [goal, row.ino])).changes;
      return { changed, unchanged: 1 - changed };
    }
    const total = (await tx.get<{ n: number }>(`${TREE} SELECT COUNT(*) AS n FROM tree`, [row.ino]))?.n ?? 0;
    const changed = (await tx.run(`${TREE} UPDATE inodes SET replication = ? WHERE replication != ? AND ino IN (SELECT ino FROM tree)`, [row.ino, goal, goal])).changes;
    return { changed, unchanged: total - changed };
  });
  if (result.changed > 0) {
    deps.log.info('replication goal set', { path, goal, recursive: !!req.recursive, changed: result.changed });
    deps.chunks.replication.poke();
  }
  return { ...result, placeableServers: deps.registry.placeable().length };
}
