/**
 * Files this mount has open after their last name was removed (unlink, or rename over them).
 * POSIX keeps such a file readable and writable until its last descriptor closes. The master keeps
 * it as an orphan when the removing call names it (`keepIno`): this tracker finds which inode a
 * removal would take (only when something is open at all), renews the orphans' lease while they
 * stay open, and releases each at its last close.
 */
import type { Logger } from '../../common/log/logger.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { MetaClient } from '../meta-client.js';
import type { EntryCache } from './entry-cache.js';
import type { OpenFileTable } from './open-files.js';

/** Well inside the master's lease (ORPHAN_LEASE_MS, 10 minutes). */
const RENEW_EVERY_MS = 2 * 60 * 1000;

export class OrphanTracker {
  private readonly held = new Set<number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly meta: MetaClient,
    private readonly entries: EntryCache,
    private readonly files: OpenFileTable,
    private readonly log: Logger,
  ) {}

  /**
   * The inode that removing `name` from `parent` would take, if this mount has it open (0 if not):
   * the one to ask the master to keep. Costs a lookup only when files are open and the name is
   * not cached.
   */
  async keepCandidate(parent: number, name: string): Promise<number> {
    if (this.files.size === 0) return 0;
    let ino = this.entries.cachedEntry(parent, name);
    if (ino === undefined) {
      try {
        ino = (await this.meta.lookup(parent, name)).ino;
      } catch (e) {
        if (toFsError(e).code === 'ENOENT') return 0;
        throw e;
      }
    }
    return this.files.isOpen(ino) ? ino : 0;
  }

  /** The master kept `ino` as an orphan for this mount. */
  kept(ino: number): void {
    this.held.add(ino);
    if (!this.timer) {
      this.timer = setInterval(() => void this.renew(), RENEW_EVERY_MS);
      this.timer.unref();
    }
  }

  has(ino: number): boolean {
    return this.held.has(ino);
  }

  /** The last descriptor of `ino` closed: if it is an orphan of ours, the master frees it now. */
  async closed(ino: number): Promise<void> {
    if (!this.held.delete(ino)) return;
    this.stopIfIdle();
    try {
      await this.meta.updateOrphans([], [ino]);
    } catch (err) {
      // Its lease runs out instead: the master frees it within ORPHAN_LEASE_MS.
      this.log.warn('releasing an orphan failed; the master frees it when its lease ends', { ino, err });
    }
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      const gone = await this.meta.updateOrphans([...this.held], []);
      for (const ino of gone) this.held.delete(ino);
      this.stopIfIdle();
    } catch (err) {
      this.log.warn('renewing orphans failed; retrying at the next renewal', { count: this.held.size, err });
    }
  }

  private stopIfIdle(): void {
    if (this.held.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
