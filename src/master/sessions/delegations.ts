/**
 * Directory delegations: a mount's session may hold a directory alone, answering mkdir, symlink,
 * unlink, rmdir and rename in it, and attribute changes of the files named in it, at once and
 * sending them later in batches (ApplyChanges). While it holds one, every other caller's call in
 * that directory, or about an inode it names, first recalls it and waits: the holder sends what
 * it has not sent yet and releases it. A holder that stops calling (its process died,
 * its network went) loses its delegations `leaseMs` after its last call, like a chunk lease.
 *
 * Kept in memory only: after a restart the master holds none, and a mount's next batch takes its
 * directories again if nobody else did meanwhile (otherwise its changes are checked as anyone's).
 */
import { randomUUID } from 'node:crypto';
import { RunningCounts } from '../../common/running-counts.js';

/** Added to the grace for clocks and calls in flight. */
const GRACE_MARGIN_MS = 500;

interface Held {
  session: string;
  /** Another caller waits for it: the holder is told, and it is not granted again until released. */
  recalled: boolean;
  waiters: (() => void)[];
}

interface Session {
  dirs: Set<number>;
  /** Inode numbers reserved for it (Delegate), [first, end): it may have given some that the master has not seen yet. */
  reserved: { first: number; end: number }[];
  lastSeen: number;
  /** An AwaitRecall waiting to tell this session what to give back. */
  poll: ((dirs: number[]) => void) | undefined;
}

export class Delegations {
  private readonly byDir = new Map<number, Held>();
  private readonly sessions = new Map<string, Session>();
  /** Per directory: calls of others running in it now (no grant while one runs). */
  private readonly busy = new RunningCounts<number>();
  private readonly sweeper: NodeJS.Timeout;
  /** This table's life (random): a mount that sees another one knows its delegations were forgotten. */
  readonly epoch = randomUUID();

  /** Until then (a restart's grace), changes wait: delegations of the master before may still be trusted by their mounts. */
  private graceUntil = 0;

  /**
   * `restarted`: the namespace was served before (not a new database). A mount trusts its
   * delegations for half a lease after its last answer from the master that granted them, so for
   * that long after a restart nobody else may change any directory: changes wait until then.
   */
  constructor(readonly leaseMs = 5000, private readonly now: () => number = Date.now, restarted = false) {
    if (restarted) this.graceUntil = this.now() + Math.ceil(leaseMs / 2) + GRACE_MARGIN_MS;
    this.sweeper = setInterval(() => this.expire(), Math.max(50, Math.floor(leaseMs / 5)));
    this.sweeper.unref();
  }

  private session(id: string): Session {
    let s = this.sessions.get(id);
    if (!s) {
      s = { dirs: new Set(), reserved: [], lastSeen: this.now(), poll: undefined };
      this.sessions.set(id, s);
    }
    s.lastSeen = this.now();
    return s;
  }

  /** A call of `session` arrived: its delegations run on. */
  seen(session: string): void {
    if (session !== '') this.session(session);
  }

  /** Grants each of `dirs` that no other session holds and no other caller is changing now. */
  acquire(session: string, dirs: readonly number[]): number[] {
    const s = this.session(session);
    const granted: number[] = [];
    for (const dir of dirs) {
      const held = this.byDir.get(dir);
      if (held) {
        if (held.session === session && !held.recalled) granted.push(dir);
        continue;
      }
      if (this.busy.has(dir)) continue;
      this.byDir.set(dir, { session, recalled: false, waiters: [] });
      s.dirs.add(dir);
      granted.push(dir);
    }
    return granted;
  }

  release(session: string, dirs: readonly number[]): void {
    for (const dir of dirs) {
      const held = this.byDir.get(dir);
      if (held?.session === session) this.drop(dir, held);
    }
  }

  private drop(dir: number, held: Held): void {
    this.byDir.delete(dir);
    this.sessions.get(held.session)?.dirs.delete(dir);
    for (const w of held.waiters) w();
  }

  /** Whether `dir` is delegated to someone other than `session`. */
  heldByOther(session: string, dir: number): boolean {
    const held = this.byDir.get(dir);
    return held !== undefined && held.session !== session;
  }

  /** Whether a session other than `session` holds any directory (calls about an inode skip finding its directories otherwise). */
  heldByOthers(session: string): boolean {
    for (const [id, s] of this.sessions) if (id !== session && s.dirs.size > 0) return true;
    return false;
  }

  /** Per session ('' for callers without one): calls changing an inode running now. */
  private readonly inodeChanges = new RunningCounts<string>();

  /**
   * Runs `call`, which changes an inode's attributes or data, counted as such while it runs: a
   * directory granted to another session meanwhile comes without `attrs` (what its holder reads of
   * its entries now may miss this change).
   */
  changingInode<T>(session: string, call: () => Promise<T>): Promise<T> {
    return this.inodeChanges.around([session], call);
  }

  /**
   * Whether attributes `session` reads from now on of the entries of a directory it holds are
   * exact while it holds it: no other session is changing an inode now (every later call of
   * another session about one of them recalls the directory first).
   */
  attrsExactFor(session: string): boolean {
    for (const id of this.inodeChanges.keys()) if (id !== session) return false;
    return true;
  }

  /** Whether any directory is delegated (calls skip looking up what they touch when none is). */
  get any(): boolean {
    return this.byDir.size > 0;
  }

  /**
   * Runs `call` once none of `dirs` is delegated to another session, counting it as running in
   * them meanwhile. `mutates`: it changes them (no grant of them until it is done; during a
   * restart's grace it waits for the grace to end first). The caller's own session runs through its
   * own delegations.
   */
  async during<T>(session: string, dirs: readonly number[], mutates: boolean, call: () => Promise<T>): Promise<T> {
    const grace = mutates ? this.graceUntil - this.now() : 0;
    if (grace > 0) await new Promise((r) => setTimeout(r, grace));
    for (;;) {
      const blocking = dirs.filter((d) => this.heldByOther(session, d));
      if (blocking.length === 0) break;
      await Promise.all(blocking.map((d) => this.recall(d)));
    }
    if (!mutates) return call();
    if (session !== '') this.seen(session);
    return this.busy.around(dirs, call);
  }

  /** Asks the holder of `dir` to give it back; resolves when it did or its lease ran out. */
  private recall(dir: number): Promise<void> {
    const held = this.byDir.get(dir);
    if (!held) return Promise.resolve();
    return new Promise<void>((resolve) => {
      held.waiters.push(resolve);
      if (!held.recalled) {
        held.recalled = true;
        const s = this.sessions.get(held.session);
        if (s?.poll) {
          const poll = s.poll;
          s.poll = undefined;
          poll(this.recalledOf(held.session));
        }
      }
    });
  }

  /** Inode numbers [first, first + count) were reserved for `session` (the last few ranges are kept). */
  reservedFor(session: string, first: number, count: number): void {
    const s = this.session(session);
    s.reserved.push({ first, end: first + count });
    if (s.reserved.length > 4) s.reserved.shift();
  }

  /**
   * An inode `session` asked for is not in the database: if another session may have made it and
   * not sent the change yet (the number is from its reserved range), recalls every directory that
   * session holds (it sends its queue first) and resolves when that is done; undefined otherwise.
   */
  flushMaker(session: string, ino: number): Promise<void> | undefined {
    for (const [id, s] of this.sessions) {
      if (id === session || !s.reserved.some((r) => ino >= r.first && ino < r.end)) continue;
      return Promise.all([...s.dirs].map((d) => this.recall(d))).then(() => undefined);
    }
    return undefined;
  }

  /** The delegations of `session` that others wait for. */
  recalledOf(session: string): number[] {
    const s = this.sessions.get(session);
    if (!s) return [];
    return [...s.dirs].filter((d) => this.byDir.get(d)?.recalled === true);
  }

  /** Answers at once with what `session` must give back, or waits up to `waitMs` for a recall. */
  awaitRecall(session: string, waitMs: number): Promise<number[]> {
    const s = this.session(session);
    const now = this.recalledOf(session);
    if (now.length > 0 || waitMs <= 0) return Promise.resolve(now);
    s.poll?.([]);
    return new Promise<number[]>((resolve) => {
      const timer = setTimeout(() => {
        if (s.poll === answer) s.poll = undefined;
        resolve([]);
      }, waitMs);
      const answer = (dirs: number[]): void => {
        clearTimeout(timer);
        resolve(dirs);
      };
      s.poll = answer;
    });
  }

  /** Drops the delegations of sessions silent for longer than the lease. */
  expire(): void {
    const limit = this.now() - this.leaseMs;
    for (const [id, s] of this.sessions) {
      if (s.lastSeen >= limit) continue;
      for (const dir of s.dirs) {
        const held = this.byDir.get(dir);
        if (held) this.drop(dir, held);
      }
      s.poll?.([]);
      this.sessions.delete(id);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    // Every holder hears that its directories are recalled: this master forgets them now, and a
    // mount must not go on answering in them on the strength of this last answer.
    const bySession = new Map<string, number[]>();
    for (const [dir, held] of this.byDir) {
      const dirs = bySession.get(held.session) ?? [];
      dirs.push(dir);
      bySession.set(held.session, dirs);
      this.drop(dir, held);
    }
    for (const [id, s] of this.sessions) s.poll?.(bySession.get(id) ?? []);
    this.sessions.clear();
  }
}
