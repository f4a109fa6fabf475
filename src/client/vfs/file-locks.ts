/**
 * flock(2) and fcntl(2) locks of this mount's processes, kept by the master (Lock calls,
 * master/locks/lock-table.ts) so that processes on other mounts see them. Every lock belongs to
 * (this mount's lock session, the kernel's lock owner). A request that must wait (F_SETLKW, flock
 * without LOCK_NB) asks again, from every 20 ms up to every 500 ms, until it is granted, the kernel
 * interrupts it (a signal the caller handles: EINTR), or its owner closes the file (a process killed
 * while waiting: its lock must not be granted after it is gone).
 * While it holds any lock the mount renews its session well within the master's lease, so that
 * the locks of a mount that died go a few seconds later. Closes release: a POSIX owner's locks on
 * the file at every close (flush) by that owner, an flock at the last close of its open file.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import { fst } from '../types.js';
import type { MetaClient } from '../meta-client.js';

export type LockKind = 'posix' | 'flock';
export type LockType = 'read' | 'write' | 'unlock';

export interface LockRange {
  start: number;
  /** 0: to the end of the file. */
  length: number;
}

export interface Conflict extends LockRange {
  type: 'read' | 'write';
  pid: number;
}

const WIRE_KIND = { posix: fst.LockKind.LOCK_POSIX, flock: fst.LockKind.LOCK_FLOCK } as const;
const WIRE_TYPE = { read: fst.LockType.LOCK_READ, write: fst.LockType.LOCK_WRITE, unlock: fst.LockType.LOCK_UNLOCK } as const;
const FIRST_RETRY_MS = 20;
const MAX_RETRY_MS = 500;

const keyOf = (ino: number, owner: string, kind: LockKind): string => `${ino}:${kind}:${owner}`;

export class FileLocks {
  readonly session: string;
  /** Locks this mount may hold (ino, kind, owner): what closes release and renewal keeps alive. */
  private readonly held = new Set<string>();
  /** Requests waiting for a lock, by (ino, kind, owner): a close by the owner ends them. */
  private readonly waiting = new Map<string, Set<AbortController>>();
  private renewer: NodeJS.Timeout | undefined;
  private leaseMs = 5000;

  constructor(private readonly meta: MetaClient, private readonly log: Logger, session?: string) {
    this.session = session || randomUUID();
  }

  /** F_SETLK(W) and flock: takes, changes or drops a lock; EAGAIN when it conflicts and `wait` is false. */
  async set(
    ino: number, owner: string, kind: LockKind, type: LockType, range: LockRange, pid: number, wait: boolean,
    /** Aborts a wait (the kernel interrupted the request): EINTR. */
    interrupted?: AbortSignal,
  ): Promise<void> {
    const key = keyOf(ino, owner, kind);
    let ownerGone: AbortController | undefined;
    try {
      for (let delay = FIRST_RETRY_MS; ; delay = Math.min(MAX_RETRY_MS, delay * 2)) {
        const res = await this.call(fst.LockOp.LOCK_SET, ino, owner, kind, type, range, pid);
        if (res.granted) {
          if (type !== 'unlock') this.hold(key);
          else if (kind === 'flock') this.held.delete(key);
          return;
        }
        if (!wait) throw new FsError('EAGAIN', `inode ${ino} is locked by pid ${res.conflictPid} of some mount`);
        if (!ownerGone) {
          ownerGone = new AbortController();
          let ws = this.waiting.get(key);
          if (!ws) this.waiting.set(key, (ws = new Set()));
          ws.add(ownerGone);
        }
        const stop = interrupted ? AbortSignal.any([interrupted, ownerGone.signal]) : ownerGone.signal;
        await sleep(delay, undefined, { signal: stop }).catch(() => undefined);
        if (interrupted?.aborted) throw new FsError('EINTR', 'interrupted while waiting for a lock');
        if (ownerGone.signal.aborted) throw new FsError('EINTR', 'the lock owner closed the file while waiting');
      }
    } finally {
      const ws = ownerGone && this.waiting.get(key);
      if (ws?.delete(ownerGone!) && ws.size === 0) this.waiting.delete(key);
    }
  }

  /** F_GETLK: the lock that `type` over `range` would conflict with, or undefined. */
  async test(ino: number, owner: string, type: 'read' | 'write', range: LockRange, pid: number): Promise<Conflict | undefined> {
    const res = await this.call(fst.LockOp.LOCK_TEST, ino, owner, 'posix', type, range, pid);
    if (res.granted) return undefined;
    return {
      type: res.conflictType === fst.LockType.LOCK_WRITE ? 'write' : 'read',
      start: Number(res.conflictStart), length: Number(res.conflictLength), pid: res.conflictPid,
    };
  }

  /**
   * A close by `owner`: its locks of `kind` on `ino` go, and its waits for one end. Never rejects:
   * close(2) does not fail for a lock. A release the master did not take is logged; the lock then
   * goes with this mount's session once it holds no other lock (renewal stops) or the mount ends.
   */
  async closed(ino: number, owner: string, kind: LockKind): Promise<void> {
    // The common close, on a mount where no process locks anything: nothing to look up.
    if (this.held.size === 0 && this.waiting.size === 0) return;
    const key = keyOf(ino, owner, kind);
    for (const w of this.waiting.get(key) ?? []) w.abort();
    if (!this.held.delete(key)) return;
    try {
      await this.call(fst.LockOp.LOCK_RELEASE_OWNER, ino, owner, kind, 'unlock', { start: 0, length: 0 }, 0);
    } catch (err) {
      this.log.warn('releasing a lock at close failed', { ino, kind, err });
    } finally {
      this.stopRenewingIfIdle();
    }
  }

  close(): void {
    clearInterval(this.renewer);
    this.renewer = undefined;
  }

  private async call(op: fst.LockOp, ino: number, owner: string, kind: LockKind, type: LockType, range: LockRange, pid: number): Promise<fst.LockResponse> {
    const res = await this.meta.lock({
      session: this.session, op, ino, owner, kind: WIRE_KIND[kind], type: WIRE_TYPE[type], start: range.start, length: range.length, pid,
    });
    if (res.leaseMs > 0) this.leaseMs = res.leaseMs;
    return res;
  }

  private hold(key: string): void {
    this.held.add(key);
    if (this.renewer) return;
    this.renewer = setInterval(() => {
      this.meta.lock({ session: this.session, op: fst.LockOp.LOCK_RENEW }).catch((err: unknown) => this.log.warn('renewing file locks failed', { err }));
    }, Math.max(100, Math.floor(this.leaseMs / 4)));
    this.renewer.unref();
  }

  private stopRenewingIfIdle(): void {
    if (this.held.size > 0) return;
    clearInterval(this.renewer);
    this.renewer = undefined;
  }
}
