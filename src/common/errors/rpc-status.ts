/**
 * The one place where errno names and gRPC statuses meet. A daemon answers an FsError with a fixed
 * status code, a readable message and the errno name in the `fst-errno` trailer; a client prefers
 * the trailer and falls back on the status code. Nobody parses message text.
 */
import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { FsError, isErrnoName, type ErrnoName } from './errno.js';

export const ERRNO_TRAILER = 'fst-errno';

const statusOfErrno: Partial<Record<ErrnoName, status>> = {
  ENOENT: status.NOT_FOUND,
  ENODATA: status.NOT_FOUND,
  EEXIST: status.ALREADY_EXISTS,
  EACCES: status.PERMISSION_DENIED,
  EPERM: status.PERMISSION_DENIED,
  ENOTEMPTY: status.FAILED_PRECONDITION,
  ENOTDIR: status.FAILED_PRECONDITION,
  EISDIR: status.FAILED_PRECONDITION,
  ESTALE: status.FAILED_PRECONDITION,
  EXDEV: status.FAILED_PRECONDITION,
  EMLINK: status.FAILED_PRECONDITION,
  ENOSPC: status.RESOURCE_EXHAUSTED,
  ENOLCK: status.RESOURCE_EXHAUSTED,
  EFBIG: status.OUT_OF_RANGE,
  ERANGE: status.OUT_OF_RANGE,
  EINVAL: status.INVALID_ARGUMENT,
  ENAMETOOLONG: status.INVALID_ARGUMENT,
  ELOOP: status.INVALID_ARGUMENT,
  E2BIG: status.INVALID_ARGUMENT,
  ENOSYS: status.UNIMPLEMENTED,
  ENOTSUP: status.UNIMPLEMENTED,
  ETIMEDOUT: status.DEADLINE_EXCEEDED,
  EINTR: status.CANCELLED,
  ECANCELED: status.CANCELLED,
  EAGAIN: status.UNAVAILABLE,
  EBUSY: status.UNAVAILABLE,
};

/** The gRPC status a daemon answers an errno with. */
export function statusForErrno(code: ErrnoName): status {
  return statusOfErrno[code] ?? status.INTERNAL;
}

const errnoOfStatus: Partial<Record<status, ErrnoName>> = {
  [status.NOT_FOUND]: 'ENOENT',
  [status.ALREADY_EXISTS]: 'EEXIST',
  [status.PERMISSION_DENIED]: 'EACCES',
  [status.UNAUTHENTICATED]: 'EACCES',
  [status.FAILED_PRECONDITION]: 'EIO',
  [status.RESOURCE_EXHAUSTED]: 'ENOSPC',
  [status.OUT_OF_RANGE]: 'EFBIG',
  [status.INVALID_ARGUMENT]: 'EINVAL',
  [status.UNIMPLEMENTED]: 'ENOSYS',
  [status.DEADLINE_EXCEEDED]: 'ETIMEDOUT',
  [status.CANCELLED]: 'EINTR',
  [status.UNAVAILABLE]: 'EIO',
};

/** Trailer metadata carrying the errno name. */
export function errnoMetadata(code: ErrnoName): Metadata {
  const md = new Metadata();
  md.set(ERRNO_TRAILER, code);
  return md;
}

/** What a server handler passes to its callback (or emits) for an FsError. */
/**
 * A caller over one of a daemon's limits (calls in flight on a connection, writers queued for a
 * chunk): RESOURCE_EXHAUSTED on the wire, EAGAIN to the caller, never retried by RpcClient (it
 * retries UNAVAILABLE only), so an overloading client slows down instead of piling on.
 */
export class LimitError extends FsError {
  constructor(message: string) {
    super('EAGAIN', message);
  }
}

/**
 * An operation refused because the cluster is not in the state it needs (an operator's command
 * while some chunkserver is down): FAILED_PRECONDITION on the wire, EAGAIN to the caller (try
 * again once the state is right), never retried by RpcClient.
 */
export class PreconditionError extends FsError {
  constructor(message: string) {
    super('EAGAIN', message);
  }
}

/**
 * A daemon that cannot serve the call now but may in a moment (a master whose metadata database is
 * failing over): UNAVAILABLE on the wire, which RpcClient retries like a daemon it cannot reach;
 * EIO, as for an unreachable daemon, once its retries run out (what an application expects of
 * storage in trouble, where EAGAIN from open or fsync is not). By default the daemon certainly did
 * not act on the call. `maybeApplied`: it may have (a commit whose answer the master itself lost):
 * the answer then carries no errno trailer, so the client takes it as it takes a connection lost
 * after the request went out (RpcCallOptions.delivery), and a retry that meets the call's own
 * effect is recognised as such.
 */
export class UnavailableError extends FsError {
  readonly maybeApplied: boolean;
  constructor(message: string, options?: { cause?: unknown; maybeApplied?: boolean }) {
    super('EIO', message, options);
    this.maybeApplied = options?.maybeApplied === true;
  }
}

export function fsErrorToStatus(e: FsError): Partial<StatusObject> & { code: status; details: string; metadata: Metadata } {
  const code = e instanceof LimitError ? status.RESOURCE_EXHAUSTED
    : e instanceof PreconditionError ? status.FAILED_PRECONDITION
    : e instanceof UnavailableError ? status.UNAVAILABLE
    : statusForErrno(e.code);
  const unknownOutcome = e instanceof UnavailableError && e.maybeApplied;
  return { code, details: e.message, metadata: unknownOutcome ? new Metadata() : errnoMetadata(e.code) };
}

/** The errno of a failed call: the trailer when present, else the status code's meaning. */
export function errnoOfServiceError(err: Pick<ServiceError, 'code' | 'metadata'>): ErrnoName {
  const fromTrailer = err.metadata?.get(ERRNO_TRAILER)[0];
  if (isErrnoName(fromTrailer)) return fromTrailer;
  return errnoOfStatus[err.code] ?? 'EIO';
}

export function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === 'number' && 'metadata' in e;
}

/** Converts a failed call into an FsError that keeps the call's error as its cause. */
export function serviceErrorToFsError(err: ServiceError, what: string): FsError {
  return new FsError(errnoOfServiceError(err), `${what}: ${err.details || err.message}`, { cause: err });
}

/**
 * The errno a daemon itself answered a call with (its `fst-errno` trailer), or undefined when the
 * call failed on the way (no connection, deadline, cancelled): then whether the daemon acted on
 * the request is unknown.
 */
export function answeredErrno(e: unknown): ErrnoName | undefined {
  let cause: unknown = e;
  for (let depth = 0; cause && depth < 5; depth++, cause = (cause as { cause?: unknown }).cause) {
    if (isServiceError(cause)) {
      const fromTrailer = cause.metadata?.get(ERRNO_TRAILER)[0];
      return isErrnoName(fromTrailer) ? fromTrailer : undefined;
    }
  }
  return undefined;
}
