/**
 * The Lock call: a mount's flock and fcntl locks in the master's LockTable (locks/lock-table.ts),
 * checked and converted from the wire here.
 */
import { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { LockAsk, LockTable, HeldLock } from '../locks/lock-table.js';
import { inoArg } from './request-checks.js';

const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

function askOf(r: fst.LockRequest): LockAsk {
  if (typeof r.session !== 'string' || r.session === '' || r.session.length > 200) throw new FsError('EINVAL', 'Lock needs a session');
  if (typeof r.owner !== 'string' || r.owner.length > 64) throw new FsError('EINVAL', 'Lock needs an owner of at most 64 characters');
  const start = Number(r.start);
  const length = Number(r.length);
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(length) || length < 0 || start + length > MAX_OFFSET) {
    throw new FsError('EINVAL', `invalid lock range ${r.start}+${r.length}`);
  }
  const kind = r.kind === fst.LockKind.LOCK_FLOCK ? 'flock' : r.kind === fst.LockKind.LOCK_POSIX ? 'posix' : undefined;
  const type = r.type === fst.LockType.LOCK_READ ? 'read' : r.type === fst.LockType.LOCK_WRITE ? 'write' : r.type === fst.LockType.LOCK_UNLOCK ? 'unlock' : undefined;
  if (!kind || !type) throw new FsError('EINVAL', `invalid lock kind ${r.kind} or type ${r.type}`);
  return {
    ino: inoArg(r.ino), session: r.session, owner: r.owner, kind, type, pid: r.pid >>> 0,
    start: kind === 'flock' ? 0 : start, end: kind === 'flock' || length === 0 ? Infinity : start + length,
  };
}

function answer(table: LockTable, conflict: HeldLock | undefined): fst.ILockResponse {
  if (!conflict) return { granted: true, leaseMs: table.leaseMs };
  return {
    granted: false, leaseMs: table.leaseMs,
    conflictType: conflict.type === 'write' ? fst.LockType.LOCK_WRITE : fst.LockType.LOCK_READ,
    conflictStart: conflict.start, conflictLength: conflict.end === Infinity ? 0 : conflict.end - conflict.start, conflictPid: conflict.pid,
  };
}

export function lock(table: LockTable, r: fst.LockRequest): fst.ILockResponse {
  switch (r.op) {
    case fst.LockOp.LOCK_RENEW:
      if (typeof r.session !== 'string' || r.session === '') throw new FsError('EINVAL', 'Lock needs a session');
      table.renew(r.session);
      return { granted: true, leaseMs: table.leaseMs };
    case fst.LockOp.LOCK_RELEASE_OWNER: {
      const ask = askOf(r);
      table.releaseOwner(ask.ino, ask.session, ask.owner, ask.kind);
      return { granted: true, leaseMs: table.leaseMs };
    }
    case fst.LockOp.LOCK_TEST: {
      const ask = askOf(r);
      table.renew(ask.session);
      return answer(table, table.conflict(ask));
    }
    case fst.LockOp.LOCK_SET:
      return answer(table, table.set(askOf(r)));
    default:
      throw new FsError('EINVAL', `unknown lock op ${r.op}`);
  }
}
