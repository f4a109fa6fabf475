/**
 * fsck --repair: what each problem's repair (fsck-compare.ts) does, each step checked again against
 * the rows as they stand right then, since a problem may be seconds old:
 * - forget: the replica row goes (version-guarded); re-replication then copies the chunk.
 * - record: the copy is recorded (recordCopy refuses a chunk that moved on).
 * - delete: the copy is deleted on its server with its version as guard. An older copy of a chunk
 *   in use goes only while a current replica is live elsewhere (never the last copy of anything a
 *   file uses); an orphan only while no chunk row uses its id, and the next chunk id is first moved
 *   past it, so this metadata can never issue that id while a copy of it may remain.
 * - trim: trim.ts deletes surplus replicas under the chunk lock (chunks in a rebalance move are
 *   left to it).
 * - copy: re-replication is asked for a pass; the copy happens in the background ("queued").
 */
import { toErrno } from '../../common/errors/to-errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import { assess, hasTarget } from '../chunks/replication-plan.js';
import { forgetReplica, loadChunk, recordCopy } from '../chunks/replication-rows.js';
import { trimChunk } from '../chunks/trim.js';
import type { AdminDeps } from './admin-deps.js';
import type { Finding, RepairAction } from './fsck-compare.js';

export interface RepairOutcome {
  repaired: boolean;
  /** What was done, or why not, appended to the problem's detail. */
  note: string;
}

/** Repairs run at once within a phase. */
const PARALLEL = 8;

/**
 * Which phase a repair belongs to: rows are put right first, so that deleting an older copy, trims
 * and copies each count on rows that say what the servers hold.
 */
const PHASES: Record<RepairAction['do'], number> = { forget: 0, record: 0, delete: 1, trim: 2, copy: 3 };

/** Repairs every problem that has a repair; returns the outcome of each, by index in `findings`. */
export async function repairAll(deps: AdminDeps, findings: readonly Finding[]): Promise<Map<number, RepairOutcome>> {
  const outcomes = new Map<number, RepairOutcome>();
  for (const phase of [0, 1, 2, 3]) {
    const todo = findings.map((f, i) => [f, i] as const).filter(([f]) => f.repair && PHASES[f.repair.do] === phase);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const [f, i] = todo[next++]!;
        outcomes.set(i, await repairOne(deps, f, f.repair!).catch((err: unknown) => {
          deps.log.warn('fsck: repair failed', { kind: f.kind, chunkId: f.chunkId, serverId: f.serverId, err });
          return { repaired: false, note: `repair failed: ${(err as Error).message} (${toErrno(err)})` };
        }));
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
  }
  // Rows forgotten, chunks below their goal: the next re-replication pass comes now.
  if (outcomes.size > 0) deps.chunks.replication.poke();
  return outcomes;
}

async function repairOne(deps: AdminDeps, f: Finding, a: RepairAction): Promise<RepairOutcome> {
  switch (a.do) {
    case 'forget':
      if (a.version !== undefined) await forgetReplica(deps.db, f.chunkId, a.serverId, a.version);
      return { repaired: true, note: a.version !== undefined ? 'replica row forgotten; re-replication queued' : 'dropped by its server; re-replication queued' };
    case 'record':
      return (await recordCopy(deps.db, f.chunkId, a.serverId, a.version))
        ? { repaired: true, note: 'recorded' }
        : { repaired: false, note: 'not recorded: the chunk has moved to another version since' };
    case 'delete':
      return f.ino === 0 ? deleteOrphan(deps, f.chunkId, a) : deleteOlderCopy(deps, f.chunkId, a);
    case 'trim':
      return trim(deps, f.chunkId);
    case 'copy':
      return queueCopy(deps, f.chunkId);
  }
}

function addressOf(deps: AdminDeps, serverId: number): string | undefined {
  return deps.registry.isAlive(serverId) ? deps.registry.get(serverId)?.address : undefined;
}

async function deleteOnServer(deps: AdminDeps, address: string, chunkId: number, version: number): Promise<RepairOutcome | undefined> {
  try {
    await deps.chunks.deps.commands.deleteChunk(address, chunkId, version);
    return undefined;
  } catch (err) {
    if (toErrno(err) === 'ESTALE') return { repaired: false, note: 'not deleted: the server holds another version of it now' };
    throw err;
  }
}

async function deleteOrphan(deps: AdminDeps, chunkId: number, a: Extract<RepairAction, { do: 'delete' }>): Promise<RepairOutcome> {
  const address = addressOf(deps, a.serverId);
  if (!address) return { repaired: false, note: 'not deleted: its server is not alive' };
  // While its foreign_chunks row stays (until the delete is done), no new chunk takes the id.
  const free = !(await deps.db.reader.get('SELECT 1 AS x FROM chunks WHERE chunk_id = ?', [chunkId]));
  if (!free) return { repaired: false, note: 'not deleted: a file uses it now' };
  const refused = await deleteOnServer(deps, address, chunkId, a.version);
  if (refused) return refused;
  // Forgotten: another server's copy of it, if any, is now an ordinary orphan, deleted on report.
  await deps.db.write((tx) => tx.run('DELETE FROM foreign_chunks WHERE chunk_id = ?', [chunkId]));
  return { repaired: true, note: 'deleted' };
}

async function deleteOlderCopy(deps: AdminDeps, chunkId: number, a: Extract<RepairAction, { do: 'delete' }>): Promise<RepairOutcome> {
  const address = addressOf(deps, a.serverId);
  if (!address) return { repaired: false, note: 'not deleted: its server is not alive' };
  const now = Date.now();
  const chunk = await loadChunk(deps.db.reader, chunkId, now);
  if (!chunk) return { repaired: false, note: "not deleted: the chunk's file is gone (garbage collection deletes it)" };
  const state = assess(chunk, deps.chunks.replication.trimContext.stateOf(now));
  if (chunk.version <= a.version) return { repaired: false, note: `not deleted: v${a.version} is the chunk's version now` };
  if (!state.sources.some((id) => id !== a.serverId)) return { repaired: false, note: 'not deleted: no live replica at the current version elsewhere now' };
  const refused = await deleteOnServer(deps, address, chunkId, a.version);
  if (refused) return refused;
  if (a.forget !== undefined) await forgetReplica(deps.db, chunkId, a.serverId, a.forget);
  return { repaired: true, note: 'deleted' };
}

async function trim(deps: AdminDeps, chunkId: number): Promise<RepairOutcome> {
  const { replication } = deps.chunks;
  if (replication.moving.has(chunkId)) return { repaired: false, note: 'left to the rebalance move under way' };
  const deleted = await trimChunk(replication.trimContext, chunkId);
  if (deleted.length === 0) return { repaired: false, note: 'nothing trimmed: no surplus when looked at again' };
  return { repaired: true, note: `trimmed from ${deleted.map((id) => deps.registry.get(id)?.address ?? id).join(', ')}` };
}

async function queueCopy(deps: AdminDeps, chunkId: number): Promise<RepairOutcome> {
  const now = Date.now();
  const chunk = await loadChunk(deps.db.reader, chunkId, now);
  if (!chunk) return { repaired: false, note: "not copied: the chunk's file is gone" };
  const a = assess(chunk, deps.chunks.replication.trimContext.stateOf(now));
  if (a.sources.length === 0) return { repaired: false, note: 'cannot be copied: no live replica to copy from' };
  const targets = deps.registry.placeable().filter((s) => s.free >= CHUNK_SIZE).map((s) => s.id);
  if (!hasTarget(a, targets)) return { repaired: false, note: 'cannot be copied now: every server in service with room holds it already' };
  return { repaired: true, note: 'copy queued (re-replication makes it in the background)' };
}
