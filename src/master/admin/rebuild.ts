/**
 * fstadmin metadata rebuild: files recreated from the chunkservers alone, for a master whose
 * metadata was lost with no backup left (docs/OPERATIONS.md, "Rebuilding lost metadata").
 *
 * 1. Every registered chunkserver must be alive (else FAILED_PRECONDITION, unless `force`): a
 *    chunk held only by an absent one would not be recovered now.
 * 2. Every live server lists its chunks with the owner record of each (ListChunks with_owners).
 * 3. Chunks a file uses already are left alone, as are chunks this metadata issued itself to files
 *    since deleted (chunks/issued-ids.ts): what is left are chunks this metadata never issued.
 * 4. Those are grouped into files by owner inode (rebuild-plan.ts) and written under `into`
 *    (rebuild-write.ts), a batch of files per transaction, after the counters are moved past every
 *    id and old inode number the files will use. The files point at the chunks where they are:
 *    nothing is copied. Re-replication then brings them to their goal.
 *
 * Running it again adds nothing: every chunk it adopted is used by a file from then on. Only one
 * rebuild runs at a time.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import { PreconditionError } from '../../common/errors/rpc-status.js';
import { chunkIdsIn } from '../chunks/replication-rows.js';
import { issuedHere, readIdCounters } from '../chunks/issued-ids.js';
import type { AdminDeps } from './admin-deps.js';
import { planFiles, type ListedChunk } from './rebuild-plan.js';
import { prepareRebuild, writeFile, type RebuildTarget } from './rebuild-write.js';

/** Where files go unless the request says. */
export const DEFAULT_INTO = '/lost+found';
/** Files per transaction: the writer queue is not held for long. */
const BATCH = 200;
/** Most files listed in the answer. */
const MAX_LISTED = 10_000;

/** The masters (by database) running a rebuild now. */
const running = new WeakSet<object>();

interface Inventory {
  chunks: Map<number, ListedChunk>;
  servers: string[];
  unreachable: string[];
}

/** Every live server's chunks with their owner records, by chunk id. */
async function listChunks(deps: AdminDeps, signal: AbortSignal | undefined): Promise<Inventory> {
  const inv: Inventory = { chunks: new Map(), servers: [], unreachable: [] };
  const ownerVersion = new Map<number, number>();
  await Promise.all(deps.registry.alive().map(async (s) => {
    try {
      const held = await deps.chunks.deps.commands.listChunks(s.address, { withOwners: true }, signal);
      for (const h of held) {
        let c = inv.chunks.get(h.chunkId);
        if (!c) inv.chunks.set(h.chunkId, (c = { chunkId: h.chunkId, owner: undefined, copies: [] }));
        c.copies.push({ serverId: s.id, version: h.version, length: h.length });
        // The newest copy's record: copies carry their source's, so all should agree anyway.
        if (h.owner && h.version >= (ownerVersion.get(h.chunkId) ?? -1)) {
          c.owner = h.owner;
          ownerVersion.set(h.chunkId, h.version);
        }
      }
      inv.servers.push(s.address);
    } catch (err) {
      deps.log.warn('metadata rebuild: chunkserver did not list its chunks', { serverId: s.id, address: s.address, err });
      inv.unreachable.push(s.address);
    }
  }));
  return inv;
}

function normalInto(raw: string): string {
  const into = raw === '' ? DEFAULT_INTO : raw;
  if (!into.startsWith('/')) throw new FsError('EINVAL', `the rebuild directory must be an absolute path: ${JSON.stringify(into)}`);
  const names = into.split('/').filter((n) => n !== '' && n !== '.');
  if (names.includes('..')) throw new FsError('EINVAL', `the rebuild directory may not contain "..": ${JSON.stringify(into)}`);
  return '/' + names.join('/');
}

function checkServers(deps: AdminDeps, force: boolean): void {
  const absent = deps.registry.all().filter((s) => !deps.registry.isAlive(s.id));
  if (deps.registry.alive().length === 0) throw new PreconditionError('no chunkserver is alive: start the chunkservers first');
  if (absent.length > 0 && !force) {
    throw new PreconditionError(`${absent.length} registered chunkserver(s) not alive (${absent.map((s) => s.address).join(', ')}): ` +
      'their chunks would not be recovered; start them, or pass --force');
  }
}

export async function rebuildMetadata(deps: AdminDeps, req: fst.IRebuildMetadataRequest, signal?: AbortSignal): Promise<fst.IRebuildMetadataResponse> {
  const into = normalInto(req.into ?? '');
  const force = req.force === true;
  checkServers(deps, force);
  if (running.has(deps.db)) throw new FsError('EBUSY', 'a metadata rebuild is running already');
  running.add(deps.db);
  try {
    return await rebuild(deps, into, force, signal);
  } finally {
    running.delete(deps.db);
  }
}

async function rebuild(deps: AdminDeps, into: string, force: boolean, signal: AbortSignal | undefined): Promise<fst.IRebuildMetadataResponse> {
  const inv = await listChunks(deps, signal);
  if (inv.unreachable.length > 0 && !force) {
    throw new PreconditionError(`chunkserver(s) ${inv.unreachable.join(', ')} did not list their chunks: try again, or pass --force`);
  }
  signal?.throwIfAborted();
  const ids = [...inv.chunks.keys()];
  const used = await chunkIdsIn(deps.db.reader, 'chunks', ids);
  const deleted = await chunkIdsIn(deps.db.reader, 'deleted_chunks', ids);
  const foreign = await chunkIdsIn(deps.db.reader, 'foreign_chunks', ids);
  const counters = await readIdCounters(deps.db.reader);
  const adoptable: ListedChunk[] = [];
  let skipped = 0;
  for (const c of inv.chunks.values()) {
    if (used.has(c.chunkId)) continue;
    if (deleted.has(c.chunkId) || (!foreign.has(c.chunkId) && issuedHere(c.chunkId, counters))) skipped++;
    else adoptable.push(c);
  }
  const files = planFiles(adoptable);
  const res = {
    into, servers: inv.servers, serversUnreachable: inv.unreachable, files: 0, bytes: 0, chunks: 0, unowned: 0, superseded: 0,
    alreadyUsed: used.size, skipped, rebuilt: [] as fst.IRebuiltFile[], truncated: false,
  };
  if (files.length === 0) return res;
  const base = await deps.db.write((tx) => prepareRebuild(tx, into, files));
  res.into = base.intoPath;
  const target: RebuildTarget = { ...base, generation: (id) => deps.registry.reportGeneration(id) };
  for (let i = 0; i < files.length; i += BATCH) {
    // Stopping between batches leaves a rebuild that a second run completes.
    signal?.throwIfAborted();
    const batch = files.slice(i, i + BATCH);
    const made = await deps.db.write(async (tx) => {
      const out = [];
      for (const f of batch) out.push({ f, made: await writeFile(tx, target, f) });
      return out;
    });
    for (const { f, made: m } of made) {
      if (!m) {
        res.alreadyUsed += f.chunks.length;
        continue;
      }
      res.files++;
      res.bytes += Number(m.size);
      res.chunks += m.chunks ?? 0;
      res.alreadyUsed += f.chunks.length - (m.chunks ?? 0);
      if (f.kind === 'unowned') res.unowned++;
      if (f.kind === 'superseded') res.superseded++;
      if (res.rebuilt.length < MAX_LISTED) res.rebuilt.push(m);
      else res.truncated = true;
    }
  }
  deps.log.info('metadata rebuilt from the chunkservers', { into: res.into, files: res.files, chunks: res.chunks, bytes: res.bytes, unowned: res.unowned, superseded: res.superseded });
  deps.chunks.replication.poke();
  return res;
}
