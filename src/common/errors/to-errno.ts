/**
 * The converter at every boundary: whatever was thrown becomes an errno name. Node's own system
 * errors keep their code; failed gRPC calls use the trailer; anything else is a bug, logged with
 * its stack, and reported as EIO.
 */
import { FsError, isErrnoName, type ErrnoName } from './errno.js';
import { errnoOfServiceError, isServiceError } from './rpc-status.js';

export function toErrno(e: unknown, onUnknown?: (e: unknown) => void): ErrnoName {
  if (e instanceof FsError) return e.code;
  if (isServiceError(e)) return errnoOfServiceError(e);
  const code = (e as { code?: unknown } | null)?.code;
  if (isErrnoName(code)) return code;
  if (code === 'ENOTSUP' || code === 'EOPNOTSUPP') return 'ENOTSUP';
  if (code === 'EDQUOT') return 'ENOSPC';
  if (code === 'ABORT_ERR') return 'EINTR';
  onUnknown?.(e);
  return 'EIO';
}

/** An FsError for anything thrown, keeping it as the cause. */
export function toFsError(e: unknown, onUnknown?: (e: unknown) => void): FsError {
  if (e instanceof FsError) return e;
  const code = toErrno(e, onUnknown);
  const message = e instanceof Error ? e.message : String(e);
  return new FsError(code, message, { cause: e });
}
