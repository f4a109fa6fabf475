/**
 * Changes this mount answered itself in directories delegated to it (delegated-dirs.ts), on their
 * way to the master. They wait up to BATCH_DELAY_MS (or until BATCH_FULL are queued) to go out
 * together: nobody waits for them meanwhile, and one call per change would cost the mount more than
 * the change itself (a socket write and an answer each). Whoever does wait (a call of this mount
 * behind the barrier, fsync, a recall) sends them at once.
 *
 * Every other master call of this mount waits until the changes queued before it are applied
 * (`barrier`, installed on the MetaClient): the master never sees a file created in a directory
 * it has not made yet, and reads see this mount's own changes. Reads of listings and attributes
 * wait only for the changes touching what they read (a scoped barrier, checked again against the
 * inodes the answer names): a walk that removes what it lists does not wait for each directory's
 * removals to reach the master before listing the next. A change the master refuses (only
 * possible when another client changed the directory against the delegation's promise, e.g. across
 * a master restart) is logged, undone in the caches by `onFailure`, and reported by the next
 * `flush` (fsync, fsyncdir) as EIO, the way a lost write-back is.
 */
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { MetaClient } from '../meta-client.js';
import type { fst } from '../types.js';

/** Most changes sent in one call. */
const MAX_BATCH = 512;
/** How long a change may wait for others to go with it, and how many go out without waiting. */
const BATCH_DELAY_MS = 5;
const BATCH_FULL = 128;

export interface QueuedChange {
  change: fst.IChange;
  /**
   * The inodes it touches: its directories (their delegations must not be given back before it is
   * applied) and the inodes it makes, removes or moves (a read naming one waits for it).
   */
  inos: number[];
  /** Called when the master refused it. */
  onFailure: (error: FsError) => void;
}

export class ChangeQueue {
  private pending: QueuedChange[] = [];
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Resolves when everything queued so far is applied. */
  private drained: Promise<void> | undefined;
  private resolveDrained: (() => void) | undefined;
  private failures = 0;
  /** Changes were applied since the last `sync` (committed by the master, maybe not on its disk yet). */
  private appliedUnsynced = false;
  /** Changes queued or on their way, per inode they touch. */
  private readonly inFlight = new Map<number, number>();
  /** Someone waits for the queue (a barrier): batches go one after another until it is empty. */
  private awaited = false;

  constructor(
    private readonly meta: MetaClient,
    private readonly log: Logger,
    /** The master asks these directories back (the caller gives them back once applied); `epoch`: its DelegateResponse.epoch. */
    private readonly onAnswer: (recalled: number[], epoch: string) => void,
  ) {}

  /** Queues a change; it goes out within BATCH_DELAY_MS, with those queued meanwhile. */
  add(q: QueuedChange): void {
    this.pending.push(q);
    for (const d of q.inos) this.inFlight.set(d, (this.inFlight.get(d) ?? 0) + 1);
    if (!this.drained) this.drained = new Promise<void>((r) => (this.resolveDrained = r));
    if (this.pending.length >= BATCH_FULL) this.sendNow();
    else this.timer ??= setTimeout(() => this.sendNow(), BATCH_DELAY_MS);
  }

  private sendNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.sending ??= this.send();
  }

  /** Whether changes touching `ino` (in directory `ino`, or of that inode) are still to be applied. */
  busy(ino: number): boolean {
    return this.inFlight.has(ino);
  }

  private touchesAny(inos: Iterable<number>): boolean {
    if (this.inFlight.size === 0) return false;
    for (const ino of inos) if (this.inFlight.has(ino)) return true;
    return false;
  }

  /**
   * Undefined when nothing is queued (or, given a `scope`, nothing touching those inodes); else
   * sends the queue now and resolves once everything queued is applied.
   */
  barrier(scope?: Iterable<number>): Promise<void> | undefined {
    if (scope && !this.touchesAny(scope)) return undefined;
    if (this.drained) {
      this.awaited = true;
      if (!this.sending) this.sendNow();
    }
    return this.drained;
  }

  /** Waits for everything queued; EIO if a change failed since the last flush. */
  async flush(): Promise<void> {
    await this.barrier();
    if (this.failures > 0) {
      const n = this.failures;
      this.failures = 0;
      throw new FsError('EIO', `${n} namespace change(s) this mount answered were refused by the master (see its log)`);
    }
  }

  /** flush, then the master's log on disk if changes were applied since the last sync (fsync). */
  async sync(): Promise<void> {
    await this.flush();
    if (!this.appliedUnsynced) return;
    this.appliedUnsynced = false;
    await this.meta.syncMetadata();
  }

  private async send(): Promise<void> {
    // Later changes join the next batch; one batch at a time keeps them in order.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_BATCH);
      let failures: { index: number; error: FsError }[];
      let recalled: number[] = [];
      let epoch: string | undefined;
      try {
        ({ failures, recalled, epoch } = await this.meta.applyChanges(batch.map((q) => q.change), { timeoutMs: 60_000, retryForMs: 60_000 }));
      } catch (e) {
        const error = toFsError(e);
        failures = batch.map((_, index) => ({ index, error }));
      }
      for (const { index, error } of failures) {
        const q = batch[index]!;
        this.failures++;
        this.log.error('a namespace change answered by this mount was refused by the master', { errno: error.code, err: error.message, change: describe(q.change) });
        q.onFailure(error);
      }
      for (const q of batch) {
        for (const d of q.inos) {
          const n = (this.inFlight.get(d) ?? 1) - 1;
          if (n <= 0) this.inFlight.delete(d);
          else this.inFlight.set(d, n);
        }
      }
      if (epoch !== undefined) this.onAnswer(recalled, epoch);
      if (failures.length < batch.length) this.appliedUnsynced = true;
      // Nobody waits: what came meanwhile (one round trip's worth) waits for more to go with it,
      // rather than follow at once in a small batch (each costs a socket write and a transaction).
      if (!this.awaited && this.pending.length > 0 && this.pending.length < BATCH_FULL) {
        this.sending = undefined;
        this.timer ??= setTimeout(() => this.sendNow(), BATCH_DELAY_MS);
        return;
      }
    }
    this.awaited = false;
    this.sending = undefined;
    const resolve = this.resolveDrained;
    this.drained = undefined;
    this.resolveDrained = undefined;
    resolve?.();
  }
}

function describe(c: fst.IChange): string {
  const op = c.mkdir ? 'mkdir' : c.symlink ? 'symlink' : c.unlink ? 'unlink' : c.rmdir ? 'rmdir' : 'rename';
  const r = c.mkdir ?? c.symlink ?? c.unlink ?? c.rmdir ?? c.rename;
  return `${op} ${String(r?.parent)}/${JSON.stringify(r?.name)}`;
}
