/**
 * What fst-mount asks of the kernel and libfuse3 when it mounts: the mount options, the FUSE
 * capabilities it wants, and the request sizes.
 */
import type { CapName } from './binding.js';

export interface MountTuning {
  allowOther: boolean;
  /** The filesystem name shown in /proc/mounts and df (the master's address). */
  fsname: string;
  /** Mount read-only (the credential is): the kernel answers EROFS to every change itself. */
  readOnly?: boolean;
}

/**
 * Largest write the kernel sends in one request (libfuse3 asks for max_pages to match, so reads
 * come as large too): fewer, larger requests for streaming I/O.
 */
export const MAX_IO = 1024 * 1024;
/** The kernel's read-ahead for a file, in bytes. */
export const MAX_READAHEAD = 1024 * 1024;

/**
 * - ASYNC_READ, PARALLEL_DIROPS: several requests of one file or directory in flight at once.
 * - READDIRPLUS (always, not AUTO): every listing carries attributes, so `ls -l`, `find` and
 *   `du` need no lookup per entry.
 * - CACHE_SYMLINKS: a symlink's target never changes (a new link is a new inode).
 * - ASYNC_DIO: direct I/O requests in parallel.
 * - NO_OPENDIR_SUPPORT: the kernel opens and closes directories without a request each (two
 *   requests fewer per directory a walk opens), and keeps listings in its own cache until the
 *   directory's mtime moves (fst_fuse.c).
 * Not asked: WRITEBACK_CACHE (fst-mount buffers writes itself, and close must report their
 * errors), HANDLE_KILLPRIV (the kernel clears set-id bits with a setattr), ATOMIC_O_TRUNC (O_TRUNC
 * arrives as a setattr), AUTO_INVAL_DATA (the kernel drops a file's pages at every open instead).
 * - POSIX_LOCKS, FLOCK_LOCKS: fcntl and flock locks come to fst-mount, which keeps them at the
 *   master, so that processes on every mount see them (without, the kernel keeps them local to
 *   this machine).
 */
export const WANTED_CAPS: readonly CapName[] = [
  'ASYNC_READ', 'PARALLEL_DIROPS', 'READDIRPLUS', 'CACHE_SYMLINKS', 'ASYNC_DIO', 'NO_OPENDIR_SUPPORT', 'POSIX_LOCKS', 'FLOCK_LOCKS',
];

/** The libfuse3 session arguments (`-o` mount options). */
export function fuseArgs(t: MountTuning): string[] {
  const opts = [
    `fsname=${t.fsname.replace(/[,\\]/g, '_')}`,
    'subtype=fst',
    // The kernel checks permission bits itself, from the attributes fst-mount reports.
    'default_permissions',
  ];
  if (t.allowOther) opts.push('allow_other');
  if (t.readOnly) opts.push('ro');
  return ['-o', opts.join(',')];
}
