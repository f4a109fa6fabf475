/**
 * File locks held by mounts, so that processes on different mounts see each other's: POSIX
 * byte-range locks (fcntl F_SETLK/F_SETLKW/F_GETLK; an owner's locks merge and split as on Linux,
 * and never conflict with themselves) and flock(2) whole-file locks, kept apart as Linux keeps them.
 * An owner is (session, owner): the mount's lock session and the kernel's lock owner there.
 *
 * In memory only, like MooseFS's: a session that stops renewing (its mount died or was cut off)
 * loses its locks `leaseMs` after its last call, and a master restart forgets them all (a mount
 * takes them again only if its holders ask again). Waiting (F_SETLKW, flock without LOCK_NB) is the
 * mount's: it asks again until granted.
 */
import { FsError } from '../../common/errors/errno.js';

export type LockKind = 'posix' | 'flock';
export type LockType = 'read' | 'write';

export interface LockRange {
  start: number;
  /** Exclusive; Infinity: to the end of the file, however long it grows. */
  end: number;
}

export interface HeldLock extends LockRange {
  session: string;
  owner: string;
  kind: LockKind;
  type: LockType;
  pid: number;
}

export interface LockAsk extends LockRange {
  ino: number;
  session: string;
  owner: string;
  kind: LockKind;
  /** 'unlock' drops the owner's locks in the range (all of its flock). */
  type: LockType | 'unlock';
  pid: number;
}

/** Locks one file may have at once; more are refused (ENOLCK): a client cannot grow the table without bound. */
export const MAX_LOCKS_PER_FILE = 10_000;
/** Sessions with locks at once. */
export const MAX_SESSIONS = 100_000;

const overlaps = (a: LockRange, b: LockRange): boolean => a.start < b.end && b.start < a.end;
const sameOwner = (l: HeldLock, a: { session: string; owner: string }): boolean => l.session === a.session && l.owner === a.owner;

export class LockTable {
  private readonly byIno = new Map<number, HeldLock[]>();
  /** Per session: when it last called, and the inodes where it holds locks. */
  private readonly sessions = new Map<string, { lastSeen: number; inos: Set<number> }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(readonly leaseMs = 5000, private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.expire(), Math.max(50, Math.floor(leaseMs / 5)));
    this.sweeper.unref();
  }

  /** The lock of another owner that `ask` would conflict with, if any (F_GETLK). */
  conflict(ask: LockAsk): HeldLock | undefined {
    if (ask.type === 'unlock') return undefined;
    for (const l of this.byIno.get(ask.ino) ?? []) {
      if (l.kind !== ask.kind || sameOwner(l, ask)) continue;
      if (ask.kind === 'posix' && !overlaps(l, ask)) continue;
      if (l.type === 'write' || ask.type === 'write') return l;
    }
    return undefined;
  }

  /** Takes, changes or drops a lock: the conflicting lock when it cannot (nothing changed then). */
  set(ask: LockAsk): HeldLock | undefined {
    this.renew(ask.session);
    const blocking = this.conflict(ask);
    if (blocking) return blocking;
    const all = this.byIno.get(ask.ino) ?? [];
    const kept: HeldLock[] = [];
    const mine: HeldLock[] = [];
    for (const l of all) (l.kind === ask.kind && sameOwner(l, ask) ? mine : kept).push(l);
    let next: HeldLock[];
    if (ask.kind === 'flock') {
      next = ask.type === 'unlock' ? [] : [{ ...this.whole(ask), type: ask.type }];
    } else {
      // The owner's locks outside the range stay (cut at its edges); the range gets the new type.
      next = [];
      for (const l of mine) {
        if (!overlaps(l, ask)) next.push(l);
        else {
          if (l.start < ask.start) next.push({ ...l, end: ask.start });
          if (l.end > ask.end) next.push({ ...l, start: ask.end });
        }
      }
      if (ask.type !== 'unlock') next.push({ session: ask.session, owner: ask.owner, kind: 'posix', type: ask.type, pid: ask.pid, start: ask.start, end: ask.end });
      next = merge(next);
    }
    if (kept.length + next.length > MAX_LOCKS_PER_FILE) throw new FsError('ENOLCK', `inode ${ask.ino} has ${MAX_LOCKS_PER_FILE} locks already`);
    this.store(ask.ino, [...kept, ...next], ask.session);
    return undefined;
  }

  /** Drops every lock of an owner on `ino` of `kind` (a close: POSIX locks on flush, flock on release). */
  releaseOwner(ino: number, session: string, owner: string, kind: LockKind): void {
    this.renew(session);
    const all = this.byIno.get(ino);
    if (!all) return;
    this.store(ino, all.filter((l) => !(l.kind === kind && sameOwner(l, { session, owner }))), session);
  }

  /** The session is alive: its locks are kept another `leaseMs`. */
  renew(session: string): void {
    const s = this.sessions.get(session);
    if (s) s.lastSeen = this.now();
    else if (this.sessions.size >= MAX_SESSIONS) throw new FsError('ENOLCK', `${MAX_SESSIONS} mounts hold locks already`);
    else this.sessions.set(session, { lastSeen: this.now(), inos: new Set() });
  }

  /** Drops the locks of sessions silent for longer than the lease. */
  expire(): void {
    const limit = this.now() - this.leaseMs;
    for (const [session, s] of this.sessions) {
      if (s.lastSeen >= limit) continue;
      for (const ino of s.inos) {
        const left = (this.byIno.get(ino) ?? []).filter((l) => l.session !== session);
        if (left.length) this.byIno.set(ino, left);
        else this.byIno.delete(ino);
      }
      this.sessions.delete(session);
    }
  }

  /** The locks on `ino` (for tests and diagnostics). */
  locksOf(ino: number): readonly HeldLock[] {
    return this.byIno.get(ino) ?? [];
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private whole(ask: LockAsk): Omit<HeldLock, 'type'> {
    return { session: ask.session, owner: ask.owner, kind: ask.kind, pid: ask.pid, start: 0, end: Infinity };
  }

  private store(ino: number, locks: HeldLock[], session: string): void {
    if (locks.length) this.byIno.set(ino, locks);
    else this.byIno.delete(ino);
    const s = this.sessions.get(session);
    if (!s) return;
    if (locks.some((l) => l.session === session)) s.inos.add(ino);
    else s.inos.delete(ino);
  }
}

/** One owner's POSIX locks with adjacent or overlapping ranges of one type joined (Linux does). */
function merge(locks: HeldLock[]): HeldLock[] {
  const sorted = [...locks].sort((a, b) => a.start - b.start);
  const out: HeldLock[] = [];
  for (const l of sorted) {
    const last = out[out.length - 1];
    if (last && last.type === l.type && l.start <= last.end) last.end = Math.max(last.end, l.end);
    else out.push({ ...l });
  }
  return out;
}
