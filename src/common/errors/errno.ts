/**
 * POSIX error names carried from where an error arises to where it is reported. The name travels,
 * never the number: numbers differ between platforms, and only the FUSE adapter turns a name into
 * the host's negative errno.
 */
import { constants } from 'node:os';

export const ERRNO_NAMES = [
  'EPERM', 'ENOENT', 'EIO', 'EBADF', 'EAGAIN', 'EACCES', 'EBUSY', 'EEXIST', 'EXDEV', 'ENOTDIR',
  'EISDIR', 'EINVAL', 'EMFILE', 'EFBIG', 'ENOSPC', 'EROFS', 'EMLINK', 'ERANGE', 'ENAMETOOLONG',
  'ENOSYS', 'ENOTEMPTY', 'ELOOP', 'ENODATA', 'EOVERFLOW', 'ENOTSUP', 'ETIMEDOUT', 'EINTR', 'ESTALE',
  'E2BIG', 'ENXIO', 'ECANCELED', 'ENOLCK',
] as const;

export type ErrnoName = (typeof ERRNO_NAMES)[number];

const known = new Set<string>(ERRNO_NAMES);

export function isErrnoName(name: unknown): name is ErrnoName {
  return typeof name === 'string' && known.has(name);
}

/** An error with a POSIX meaning, raised by FST code anywhere (master, chunkserver, client). */
export class FsError extends Error {
  override readonly name = 'FsError';
  constructor(
    readonly code: ErrnoName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Host errno number of a name (positive), e.g. for process exit codes or FUSE. */
export function errnoNumber(name: ErrnoName): number {
  const table = constants.errno as Record<string, number>;
  return table[name] ?? table.EIO ?? 5;
}

/** The strerror(3)-style text of a name, for CLI messages. */
const descriptions: Partial<Record<ErrnoName, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ERANGE: 'Numerical result out of range',
  ENAMETOOLONG: 'File name too long',
  ENOSYS: 'Function not implemented',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  ENODATA: 'No data available',
  ENOTSUP: 'Operation not supported',
  ETIMEDOUT: 'Connection timed out',
  EINTR: 'Interrupted system call',
  ESTALE: 'Stale file handle',
  E2BIG: 'Argument list too long',
  ECANCELED: 'Operation canceled',
  ENOLCK: 'No locks available',
};

export function describeErrno(name: ErrnoName): string {
  return descriptions[name] ?? name;
}
