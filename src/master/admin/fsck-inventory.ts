/**
 * What the chunkservers hold, as fsck sees it: every live server is asked at once (ListChunks,
 * with each chunk's files looked at on disk); a server that fails to answer is "unreachable" and
 * its replicas are not judged. The copies are indexed by chunk id, so that the metadata can then
 * be read in chunk-id order, batch by batch, against them. This is the one place where fsck holds
 * something per chunk in memory: about a hundred bytes per replica.
 */
import type { Logger } from '../../common/log/logger.js';
import type { ChunkserverCommands } from '../chunks/chunkserver-commands.js';
import type { ServerRegistry } from '../servers/registry.js';
import type { Holding, ServerView } from './fsck-compare.js';

export interface Inventory {
  /** Every server the registry knows, by id (servers it does not know count as dead). */
  views: Map<number, ServerView>;
  /** Copies on checked servers, by chunk id. */
  held: Map<number, Holding[]>;
  /** Addresses of live servers that did not answer. */
  unreachable: string[];
}

export interface InventoryRequest {
  /** Drop copies whose files are gone (fsck --repair). */
  quarantineMissing: boolean;
  /** Only these chunks; absent: everything. */
  chunkIds?: number[];
  /**
   * A second look: ask again only the servers this first look checked (the others keep how they
   * counted then); absent: ask every live server.
   */
  previous?: Inventory;
}

export function viewOf(inv: Inventory): (serverId: number) => ServerView {
  return (id) => inv.views.get(id) ?? { state: 'dead', draining: false, address: '' };
}

export async function takeInventory(
  registry: ServerRegistry, commands: ChunkserverCommands, log: Logger, req: InventoryRequest,
): Promise<Inventory> {
  const inv: Inventory = { views: new Map(), held: new Map(), unreachable: [] };
  const before = req.previous?.views;
  const asked = registry.alive().filter((s) => !before || before.get(s.id)?.state === 'checked');
  for (const s of registry.all()) {
    // On a second look, a server unreachable the first time stays so; one checked then counts as
    // dead now unless it answers again.
    const then = before?.get(s.id)?.state;
    inv.views.set(s.id, { state: then === 'unreachable' ? then : 'dead', draining: s.draining, address: s.address });
  }
  for (const s of asked) inv.views.get(s.id)!.state = 'unreachable';
  await Promise.all(asked.map(async (s) => {
    const view = inv.views.get(s.id)!;
    try {
      const listed = await commands.listChunks(s.address, { verifyFiles: true, quarantineMissing: req.quarantineMissing, chunkIds: req.chunkIds });
      for (const c of listed) {
        let copies = inv.held.get(c.chunkId);
        if (!copies) inv.held.set(c.chunkId, (copies = []));
        copies.push({ serverId: s.id, version: c.version, length: c.length, filesMissing: c.filesMissing });
      }
      view.state = 'checked';
    } catch (err) {
      log.warn('fsck: chunkserver did not list its chunks; its replicas are not judged', { serverId: s.id, address: s.address, err });
      inv.unreachable.push(s.address);
    }
  }));
  return inv;
}
