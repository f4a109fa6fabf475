/**
 * The directories the master delegated to this mount (master/sessions/delegations.ts). In one of
 * them, with its listing known whole (dir-listings.ts), this mount knows what mkdir, symlink,
 * unlink, rmdir and rename will do before the master does: it answers them at once and queues the
 * change (change-queue.ts). Nobody else changes the directory meanwhile: the master recalls the
 * delegation first, and this mount gives it back once its changes there are applied.
 *
 * A directory is asked for (in the background) when this mount changes it through the master;
 * directories it makes under a delegation are its own from the start. One unused for IDLE_MS is
 * given back. The mount trusts its delegations only while it heard from the master within half the
 * lease (a mount cut off from the master stops answering alone long before the master would give
 * its directories to others), and keeps a call to AwaitRecall waiting while it holds any, so that a
 * recall reaches it at once.
 */
import type { Logger } from '../../common/log/logger.js';
import type { MetaClient } from '../meta-client.js';
import type { Timespec } from '../types.js';
import type { ChangeQueue } from './change-queue.js';

/** A delegation unused this long is given back. */
const IDLE_MS = 1000;
/** Inode numbers reserved at once, and the stock below which more are asked for. */
const RESERVE = 1024;
const LOW_WATER = 256;
/** A directory recalled is not asked for again for this long. */
const RECALL_BACKOFF_MS = 2000;
/** How long an AwaitRecall call waits at the master (it also renews the lease). */
const POLL_MS = 1000;
/** Subdirectories are asked for ahead (askingAhead) only while fewer directories than this are held. */
const AHEAD_MAX = 8192;

interface Held {
  lastUse: number;
  recalled: boolean;
}

export class DelegatedDirs {
  private readonly held = new Map<number, Held>();
  /** When each directory was last recalled (Date.now()). */
  private readonly recalledAt = new Map<number, number>();
  private readonly wanted = new Set<number>();
  /** Asked for in the Delegate call on its way. */
  private readonly asking = new Set<number>();
  /** When this mount last changed a directory (Date.now()). */
  private lastChangeAt = 0;
  /** When this mount last removed a name (Date.now()). */
  private lastRemovalAt = 0;
  private readonly toRelease = new Set<number>();
  private requesting: Promise<void> | undefined;
  private leaseMs = 0;
  /** Until when the delegations are trusted (Date.now()). */
  private trustedUntil = 0;
  /** master clock - local clock, ms. */
  private clockOffsetMs = 0;
  private inos = { next: 0, end: 0 };
  /** The master's delegation table these were granted by (DelegateResponse.epoch). */
  private epoch = '';
  private polling = false;
  private stopped = false;
  private readonly sweeper: NodeJS.Timeout;
  queue: ChangeQueue | undefined;

  constructor(
    private readonly meta: MetaClient,
    private readonly log: Logger,
    /**
     * A delegation was granted: `changeSeq` of the directory then; `attrs`: attributes of its
     * entries read from now on stay exact while it is held.
     */
    private readonly onGranted: (dir: number, changeSeq: number, attrs: boolean) => void,
    /**
     * A delegation ends: given back unasked (`recalled` false), or recalled or no longer trusted
     * (`recalled` true: another client changes the directory next, so its listing here is stale).
     */
    private readonly onEnded: (dir: number, recalled: boolean) => void,
  ) {
    this.sweeper = setInterval(() => this.sweep(), IDLE_MS / 2);
    this.sweeper.unref();
  }

  /** Whether this mount may answer changes in `dir` itself now. */
  holds(dir: number): boolean {
    const h = this.held.get(dir);
    if (!h || h.recalled || Date.now() > this.trustedUntil) return false;
    h.lastUse = this.lastChangeAt = Date.now();
    return true;
  }

  /** Whether `dir` is held and not recalled (however long since the master was heard). */
  isHeld(dir: number): boolean {
    const h = this.held.get(dir);
    return h !== undefined && !h.recalled;
  }

  /** The master answered a call sent at `sentAt`: the delegations hold until half a lease later. */
  private heard(sentAt: number): void {
    this.trustedUntil = Math.max(this.trustedUntil, sentAt + this.leaseMs / 2);
  }

  /** Asks for `dir` in the background (this mount just changed it through the master); one held is in use. */
  want(dir: number): void {
    this.lastChangeAt = Date.now();
    const h = this.held.get(dir);
    if (h) h.lastUse = this.lastChangeAt;
    this.ask(dir);
  }

  /**
   * A directory was just listed whole or looked up: asked for too while this mount is changing
   * directories (a `rm -r` looks up each directory, lists it and then empties it; held by then, its
   * removals are answered here from the first one on). A mount that only reads asks for nothing.
   */
  seen(dir: number): void {
    if (Date.now() - this.lastChangeAt < IDLE_MS) this.ask(dir);
  }

  /** A name is being removed (unlink, rmdir): the subdirectories of directories granted meanwhile are asked for ahead. */
  removing(): void {
    this.lastRemovalAt = Date.now();
  }

  /**
   * Whether to ask ahead for the subdirectories of a directory just granted: names were removed
   * within IDLE_MS (a `rm -r` empties every directory below the one it started in, each reached
   * after its parent was listed), and no more than AHEAD_MAX directories are held.
   */
  get askingAhead(): boolean {
    return Date.now() - this.lastRemovalAt < IDLE_MS && this.held.size < AHEAD_MAX;
  }

  /**
   * When `dir` is asked for now: resolves once that was answered (granted or not). A change there
   * waits for it rather than go to the master, whose answer would come no sooner.
   */
  asked(dir: number): Promise<void> | undefined {
    if (!this.wanted.has(dir) && !this.asking.has(dir)) return undefined;
    return (async () => {
      for (let i = 0; i < 4 && (this.wanted.has(dir) || this.asking.has(dir)); i++) {
        await (this.requesting ?? new Promise((r) => setImmediate(r)));
      }
    })();
  }

  private ask(dir: number): void {
    if (this.stopped || this.held.has(dir) || this.wanted.has(dir) || this.asking.has(dir)) return;
    // Another client works there too: leave it alone for a while rather than pass it back and forth.
    if ((this.recalledAt.get(dir) ?? -Infinity) > Date.now() - RECALL_BACKOFF_MS) return;
    this.wanted.add(dir);
    this.request();
  }

  /** A directory this mount made under a delegation: its own from the start. */
  made(dir: number): void {
    this.held.set(dir, { lastUse: Date.now(), recalled: false });
  }

  /** A fresh inode number for a new entry, if any is reserved (more are asked for when few are left). */
  takeIno(): number | undefined {
    if (this.inos.end - this.inos.next < LOW_WATER) this.request();
    if (this.inos.next >= this.inos.end) return undefined;
    return this.inos.next++;
  }

  /** Now on the master's clock. */
  now(): Timespec {
    const ms = Date.now() + this.clockOffsetMs;
    return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
  }

  /**
   * The master answered with its epoch: another one than these delegations came from (it restarted)
   * forgot them, and anyone may have changed those directories since: none is trusted any more.
   * Queued changes still go (the master checks them as any call); the directories are asked for again.
   */
  answeredBy(epoch: string): void {
    if (epoch === this.epoch) return;
    if (this.epoch !== '' && this.held.size > 0) {
      this.log.warn('the master restarted: directories delegated to this mount are asked for again', { dirs: this.held.size });
      for (const dir of this.held.keys()) this.onEnded(dir, true);
      this.held.clear();
      this.toRelease.clear();
    }
    this.epoch = epoch;
  }

  /** The master wants these back: no more answers here; given back once their changes are applied. */
  recalled(dirs: number[]): void {
    if (this.recalledAt.size > 10_000) this.recalledAt.clear();
    for (const d of dirs) {
      this.recalledAt.set(d, Date.now());
      const h = this.held.get(d);
      if (h) h.recalled = true;
      this.giveBack(d);
    }
  }

  /** `dir` is gone (removed here): the master drops its delegation with it. */
  forget(dir: number): void {
    if (this.held.delete(dir)) this.onEnded(dir, false);
    this.toRelease.delete(dir);
  }

  /** Gives `dir` back once its queued changes are applied. */
  giveBack(dir: number): void {
    if (!this.held.has(dir)) return;
    this.toRelease.add(dir);
    this.request();
  }

  private sweep(): void {
    const limit = Date.now() - IDLE_MS;
    for (const [dir, h] of this.held) if (h.lastUse < limit) this.giveBack(dir);
  }

  /** One Delegate call at a time, carrying whatever was wanted or given back meanwhile. */
  private request(): void {
    if (this.requesting || this.stopped) return;
    this.requesting = this.exchange().finally(() => {
      this.requesting = undefined;
      const more = this.wanted.size > 0 || this.inos.end - this.inos.next < LOW_WATER
        || [...this.toRelease].some((d) => !this.queue?.busy(d) || this.held.get(d)?.recalled);
      if (more && !this.stopped) setImmediate(() => this.request());
    });
  }

  private async exchange(): Promise<void> {
    // Changes still queued in a directory keep it until they are applied: sent now when someone
    // waits for it (a recall), else left for a later round.
    if ([...this.toRelease].some((d) => this.held.get(d)?.recalled && this.queue?.busy(d))) await this.queue?.barrier();
    const release = [...this.toRelease].filter((d) => !this.queue?.busy(d));
    const acquire = [...this.wanted];
    this.wanted.clear();
    for (const d of acquire) this.asking.add(d);
    for (const d of release) {
      this.toRelease.delete(d);
      const recalled = this.held.get(d)?.recalled === true;
      this.held.delete(d);
      this.onEnded(d, recalled);
    }
    const reserve = this.inos.end - this.inos.next < LOW_WATER ? RESERVE : 0;
    if (acquire.length === 0 && release.length === 0 && reserve === 0) return;
    const sentAt = Date.now();
    try {
      const res = await this.meta.delegate(acquire, release, reserve);
      this.answeredBy(res.epoch);
      this.leaseMs = res.leaseMs;
      this.clockOffsetMs = res.masterNowMs - Date.now();
      this.heard(sentAt);
      if (res.inoCount > 0) this.inos = { next: res.firstIno, end: res.firstIno + res.inoCount };
      for (const g of res.granted) {
        this.held.set(g.dir, { lastUse: Date.now(), recalled: false });
        this.onGranted(g.dir, g.changeSeq, g.attrs);
      }
      if (this.held.size > 0) this.poll();
    } catch (e) {
      // A master without delegations (ENOSYS) or unreachable: this mount keeps asking it for every change.
      this.log.debug('Delegate failed', { err: e });
      if (release.length > 0) this.log.warn('could not give directories back to the master; they lapse with the lease', { dirs: release.length });
    } finally {
      for (const d of acquire) this.asking.delete(d);
    }
  }

  /** Keeps one AwaitRecall waiting at the master while any directory is held. */
  private poll(): void {
    if (this.polling || this.stopped) return;
    this.polling = true;
    void (async () => {
      while (!this.stopped && this.held.size > 0) {
        const sentAt = Date.now();
        try {
          const { recalled, epoch } = await this.meta.awaitRecall(POLL_MS);
          this.answeredBy(epoch);
          this.heard(sentAt);
          if (recalled.length > 0) this.recalled(recalled);
        } catch (e) {
          this.log.debug('AwaitRecall failed', { err: e });
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      this.polling = false;
    })();
  }

  /** Gives every directory back (unmount), once the queued changes are applied. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.requesting;
    await this.queue?.barrier();
    this.stopped = true;
    const all = [...this.held.keys()];
    this.held.clear();
    if (all.length > 0) await this.meta.delegate([], all, 0).catch(() => undefined);
  }
}
