/**
 * An HTTP answer that is not a success, with a machine-readable code: the errno name when the
 * failure came from the filesystem, else a short name of the problem (`bad-path`, `bad-range`...).
 * `statusOfErrno` is the one table from errno to HTTP status for the plain REST API (the S3 API
 * has its own codes, s3/s3-error.ts).
 */
import type { ErrnoName } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const STATUS: Partial<Record<ErrnoName, number>> = {
  ENOENT: 404,
  ESTALE: 404,
  EEXIST: 409,
  ENOTDIR: 409,
  EISDIR: 409,
  ENOTEMPTY: 409,
  EBUSY: 409,
  EXDEV: 409,
  EMLINK: 409,
  EACCES: 403,
  EPERM: 403,
  EROFS: 403,
  EINVAL: 400,
  ENAMETOOLONG: 400,
  ELOOP: 400,
  EFBIG: 413,
  E2BIG: 413,
  ENOSPC: 507,
  EAGAIN: 503,
  ETIMEDOUT: 504,
  EINTR: 503,
  ENOTSUP: 501,
  ENOSYS: 501,
};

export function statusOfErrno(code: ErrnoName): number {
  return STATUS[code] ?? 500;
}

/** Any error as an HttpError: an FsError keeps its errno as the code; the unknown become 500/EIO. */
export function toHttpError(e: unknown, onUnknown?: (e: unknown) => void): HttpError {
  if (e instanceof HttpError) return e;
  const err = toFsError(e, onUnknown);
  return new HttpError(statusOfErrno(err.code), err.code, err.message, {}, { cause: err });
}
