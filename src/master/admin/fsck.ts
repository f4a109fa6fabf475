/**
 * fstadmin fsck [--repair]: the chunk map against what every live chunkserver holds on disk now.
 *
 * 1. Every live server lists its chunks at once, each one's files looked at on disk (with
 *    --repair, a copy whose files are gone is also dropped by its server, like a corrupt one).
 * 2. The metadata is read in chunk-id order, a batch at a time, and compared with the lists
 *    (fsck-compare.ts); copies left over belong to no file: orphans, unless garbage collection is
 *    deleting them. Chunks issued after step 1 began and chunks under a write lease are not judged.
 * 3. A second look: the lists of step 1 are minutes old on a big cluster, and the cluster moved on
 *    meanwhile (copies recorded, versions moved, files deleted). The chunks with a problem are read
 *    again, the servers asked again about those chunks only, and the chunks read once more; a problem
 *    is kept only if it shows against both reads. Rows change after the servers do (a copy is
 *    recorded once made, a version once moved, a row forgotten once its copy is deleted), so the read
 *    before the question is never ahead of the answer, and the read after it catches up with any
 *    change the answer showed half-way, unless that change takes longer than the second look. What
 *    could remain is harmless to repair: recording a copy about to be recorded, forgetting a row
 *    about to be forgotten. Copies whose files a server found gone need no second look.
 * 4. With --repair, fsck-repair.ts repairs what can be repaired, each step checked once more.
 *
 * At most 10,000 problems are kept (`truncated` says there were more).
 */
import type { fst } from '../../proto-gen/fst.js';
import type { Reader } from '../db/engine.js';
import { pathOf } from '../tree/paths.js';
import type { AdminDeps } from './admin-deps.js';
import { compareChunk, findingKey, judge, type Finding, type RowsOf } from './fsck-compare.js';
import { takeInventory, viewOf, type Inventory } from './fsck-inventory.js';
import { repairAll, type RepairOutcome } from './fsck-repair.js';
import { chunkIdsIn, loadChunks, scanChunks } from '../chunks/replication-rows.js';
import { nextChunkId } from './fsck-rows.js';

/** Most problems listed. */
export const MAX_PROBLEMS = 10_000;
/** Chunks read per query. */
const BATCH = 1_000;

interface FirstLook {
  findings: Finding[];
  truncated: boolean;
  checked: number;
  busy: number;
}

async function readRows(db: Reader, ids: readonly number[]): Promise<RowsOf> {
  return {
    recorded: await loadChunks(db, ids, Date.now()), pendingGc: await chunkIdsIn(db, 'deleted_chunks', ids), nextChunkId: await nextChunkId(db),
    foreign: await chunkIdsIn(db, 'foreign_chunks', ids),
  };
}

/** Step 2: every chunk of the metadata against the lists, then the copies no chunk row claimed. */
async function firstLook(deps: AdminDeps, inv: Inventory, newFrom: number): Promise<FirstLook> {
  const look: FirstLook = { findings: [], truncated: false, checked: 0, busy: 0 };
  const add = (found: Finding[]): void => {
    for (const f of found) {
      if (look.findings.length < MAX_PROBLEMS) look.findings.push(f);
      else look.truncated = true;
    }
  };
  const view = viewOf(inv);
  // Emptied as chunk rows claim their copies (no second map of millions of entries): what is left
  // is held by a server but used by no chunk row.
  const unclaimed = inv.held;
  for (let after: number | undefined = 0; after !== undefined; ) {
    const batch = await scanChunks(deps.db.reader, after, BATCH, Date.now());
    for (const c of batch.chunks) {
      const held = unclaimed.get(c.chunkId) ?? [];
      unclaimed.delete(c.chunkId);
      if (c.chunkId >= newFrom) continue;
      if (c.leased) look.busy++;
      else look.checked++;
      add(compareChunk(c, held, view));
    }
    after = batch.next;
  }
  const ids = [...unclaimed.keys()];
  add(judge(ids, await readRows(deps.db.reader, ids), unclaimed, view, newFrom));
  return look;
}

/** Step 3: the problems that show again against a read before and a read after asking again. */
async function secondLook(deps: AdminDeps, first: Inventory, findings: Finding[], newFrom: number): Promise<{ findings: Finding[]; unreachable: string[] }> {
  const ids = [...new Set(findings.filter((f) => !f.certain).map((f) => f.chunkId))];
  if (ids.length === 0) return { findings, unreachable: [] };
  const { db, registry, chunks, log } = deps;
  const before = await readRows(db.reader, ids);
  const again = await takeInventory(registry, chunks.deps.commands, log, { quarantineMissing: false, chunkIds: ids, previous: first });
  const after = await readRows(db.reader, ids);
  const seenBefore = new Set(judge(ids, before, again.held, viewOf(again), newFrom).map(findingKey));
  const seenAfter = new Map(judge(ids, after, again.held, viewOf(again), newFrom).map((f) => [findingKey(f), f]));
  const kept = findings.flatMap((f) => {
    if (f.certain) return [f];
    const key = findingKey(f);
    const now = seenAfter.get(key);
    return now && seenBefore.has(key) ? [now] : [];
  });
  return { findings: kept, unreachable: again.unreachable };
}

/** The problems as the answer lists them, each file named by one of its paths. */
async function describe(deps: AdminDeps, inv: Inventory, findings: Finding[], outcomes: Map<number, RepairOutcome>): Promise<fst.IFsckProblem[]> {
  const paths = new Map<number, string>();
  for (const ino of new Set(findings.map((f) => f.ino))) {
    if (ino !== 0) paths.set(ino, (await pathOf(deps.db.reader, ino).catch(() => undefined)) ?? '');
  }
  const view = viewOf(inv);
  return findings.map((f, i) => {
    const o = outcomes.get(i);
    return {
      kind: f.kind, chunkId: f.chunkId, version: f.version, serverId: f.serverId,
      server: f.serverId !== 0 ? view(f.serverId).address || (deps.registry.get(f.serverId)?.address ?? '') : '',
      ino: f.ino, path: paths.get(f.ino) ?? '', index: f.idx,
      detail: o ? `${f.detail}; ${o.note}` : f.detail, repaired: o?.repaired ?? false,
    };
  });
}

/**
 * `signal`: the call's cancellation (the caller gave up, or the master is stopping). It is checked
 * between phases, so that no repair starts once nobody waits for its outcome and none runs on
 * after the database closes.
 */
export async function fsck(deps: AdminDeps, req: fst.IFsckRequest, signal?: AbortSignal): Promise<fst.IFsckResponse> {
  const repair = req.repair === true;
  const started = Date.now();
  // Chunks issued from here on may be missing from the lists: step 2 leaves them alone.
  const newFrom = await nextChunkId(deps.db.reader);
  const inv = await takeInventory(deps.registry, deps.chunks.deps.commands, deps.log, { quarantineMissing: repair });
  signal?.throwIfAborted();
  const first = await firstLook(deps, inv, newFrom);
  signal?.throwIfAborted();
  const second = await secondLook(deps, inv, first.findings, newFrom);
  signal?.throwIfAborted();
  const outcomes = repair ? await repairAll(deps, second.findings) : new Map<number, RepairOutcome>();
  const problems = await describe(deps, inv, second.findings, outcomes);
  const repaired = problems.filter((p) => p.repaired).length;
  const checkedServers = [...inv.views.values()].filter((v) => v.state === 'checked').length;
  const unreachable = [...new Set([...inv.unreachable, ...second.unreachable])];
  // A restore is reconciled once a repair has seen every live server and the whole list.
  if (repair && unreachable.length === 0 && !first.truncated) await deps.restore.finish(deps.log);
  deps.log.info('fsck done', {
    repair, chunks: first.checked, busy: first.busy, servers: checkedServers, unreachable: unreachable.length,
    problems: problems.length, suspected: first.findings.length, repaired, ms: Date.now() - started,
  });
  return {
    chunksChecked: first.checked, serversChecked: checkedServers, serversUnreachable: unreachable,
    problems, truncated: first.truncated, repaired, chunksBusy: first.busy,
  };
}
