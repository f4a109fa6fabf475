/**
 * The FUSE options FST mounts with. fuse-native has no setting for big_writes or max_write (without
 * them the kernel sends 4 KiB writes), but whatever follows `fsname=` in its option string reaches
 * libfuse unchanged, so the extra options ride there.
 */
export interface MountTuning {
  /** Seconds the kernel trusts names (lookups). */
  entryTimeoutSec: number;
  /**
   * Seconds the kernel trusts attributes. libfuse2's path API gives each name of a hard-linked
   * file its own kernel inode, so a cached attribute could hide a new nlink or ctime seen through
   * another name; 0 sends every stat to fst-mount, which answers from its per-inode cache.
   */
  attrTimeoutSec: number;
  allowOther: boolean;
}

/** Largest read/write request the kernel sends (the most libfuse2 accepts without a patched kernel). */
export const MAX_IO = 128 * 1024;

export function fuseMountOptions(t: MountTuning): Record<string, unknown> {
  const extra = [
    'subtype=fst',
    'big_writes',
    `max_write=${MAX_IO}`,
    `max_read=${MAX_IO}`,
    // Report FST's inode numbers as st_ino (libfuse2's high-level API makes up its own otherwise).
    'use_ino',
    'readdir_ino',
    // fuse-native drops options whose value is 0, so the timeouts ride here too.
    `entry_timeout=${t.entryTimeoutSec}`,
    `attr_timeout=${t.attrTimeoutSec}`,
    // A name found missing stays missing for as long as a found one stays found: a create then
    // goes straight to fst-mount instead of a lookup first (names made elsewhere show within it).
    `negative_timeout=${t.entryTimeoutSec}`,
  ];
  return {
    fsname: ['fst', ...extra].join(','),
    defaultPermissions: true,
    allowOther: t.allowOther,
    maxRead: MAX_IO,
    // fuse-native answers EIO for an operation slower than 15 s by default; a flush of a large
    // buffer or a wait for the master may take longer, and its deadline is ours to set.
    timeout: false,
    force: true,
    mkdir: true,
  };
}
