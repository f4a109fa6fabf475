/**
 * ListChunks (the master's fsck): what this server holds now, in messages of at most 10,000
 * chunks. With verify_files every chunk's files are looked at on disk first (store/files-present.ts),
 * a few at a time so that the disk's queue stays busy and the event loop free: a copy removed behind
 * the server's back is listed with files_missing, and with quarantine_missing it is also dropped
 * like a corrupt copy. With with_owners each chunk's owner record is read from its meta file too
 * (`fstadmin metadata rebuild`), as many at once. Sending waits for the call to drain.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { CallContext } from '../../common/rpc/server.js';
import type { fst } from '../../proto-gen/fst.js';
import type { ChunkStore } from '../store/chunk-store.js';
import { failServerStream, waitDrain } from './stream-flow.js';
import { chunkIdOf } from './validate.js';

type ListCall = ServerWritableStream<fst.ListChunksRequest, fst.IListChunksResponse>;

/** Chunks per message: about 300 KiB, far below the message limit. */
export const LIST_PAGE = 10_000;
/** File checks in flight at once. */
const PARALLEL_CHECKS = 32;

interface ListOptions {
  verify: boolean;
  quarantine: boolean;
  owners: boolean;
  /** Only these chunks (deduplicated); undefined: every chunk held. */
  only: number[] | undefined;
}

/** The request's fields, checked (EINVAL names the field). */
export function listOptionsOf(req: fst.ListChunksRequest): ListOptions {
  const verify = req.verifyFiles === true;
  const quarantine = req.quarantineMissing === true;
  if (quarantine && !verify) throw new FsError('EINVAL', 'quarantine_missing needs verify_files');
  const ids = req.chunkIds ?? [];
  const only = ids.length > 0 ? [...new Set(ids.map((raw) => chunkIdOf(raw)))] : undefined;
  return { verify, quarantine, owners: req.withOwners === true, only };
}

/** The handler: failures end the stream with their errno (see failServerStream), never a throw. */
export async function listChunks(req: fst.ListChunksRequest, call: ListCall, ctx: CallContext, store: ChunkStore, log: Logger): Promise<void> {
  try {
    await streamList(listOptionsOf(req), call, ctx, store, log);
  } catch (e) {
    failServerStream(call, e, log, 'ListChunks');
  }
}

async function streamList(o: ListOptions, call: ListCall, ctx: CallContext, store: ChunkStore, log: Logger): Promise<void> {
  // The index's own iterator is live: chunks added meanwhile may be listed, removed ones are not.
  const ids: Iterator<number> = o.only ? o.only.values() : store.index.ids();
  for (;;) {
    const page: number[] = [];
    while (page.length < LIST_PAGE) {
      const r = ids.next();
      if (r.done) break;
      page.push(r.value);
    }
    if (page.length === 0) return;
    const chunks = o.verify ? await checkPage(page, o.quarantine, store, log) : describePage(page, store);
    if (o.owners) await addOwners(chunks, store, log);
    if (ctx.signal.aborted) return;
    if (!call.write({ chunks })) await waitDrain(call, ctx.signal);
    if (page.length < LIST_PAGE) return;
  }
}

/** The index's word for each chunk of the page (those no longer held are left out). */
function describePage(page: number[], store: ChunkStore): fst.IListedChunk[] {
  const out: fst.IListedChunk[] = [];
  for (const chunkId of page) {
    const e = store.index.get(chunkId);
    if (e) out.push({ chunkId, version: e.version, length: e.length });
  }
  return out;
}

/** Runs `fn` on every item, PARALLEL_CHECKS at a time. */
async function eachAtOnce<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_CHECKS, items.length) }, worker));
}

/** Each listed chunk's owner record; a chunk whose record cannot be read is listed without one. */
async function addOwners(chunks: fst.IListedChunk[], store: ChunkStore, log: Logger): Promise<void> {
  await eachAtOnce(chunks, async (c) => {
    const chunkId = c.chunkId as number;
    try {
      const owner = await store.owner(chunkId);
      if (owner) c.owner = owner;
    } catch (err) {
      log.warn('cannot read chunk owner record; listed without one', { chunkId, err });
    }
  });
}

/** Each chunk of the page after a look at its files on disk. */
async function checkPage(page: number[], quarantine: boolean, store: ChunkStore, log: Logger): Promise<fst.IListedChunk[]> {
  const out: fst.IListedChunk[] = [];
  await eachAtOnce(page, async (chunkId) => {
    try {
      const found = await store.checkFiles(chunkId, quarantine);
      if (found) out.push({ chunkId, version: found.entry.version, length: found.entry.length, filesMissing: found.missing });
    } catch (err) {
      // Not a verdict on the copy (EACCES, a failing disk): list it as the index has it.
      log.warn('cannot check chunk files; listed unverified', { chunkId, err });
      const e = store.index.get(chunkId);
      if (e) out.push({ chunkId, version: e.version, length: e.length });
    }
  });
  return out;
}
