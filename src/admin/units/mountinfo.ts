/**
 * Reads /proc/self/mountinfo (proc(5)) to tell whether a path is a FUSE mount: what
 * `fstadmin wait-ready --mount` polls for. Parsing is separate from reading so tests can feed text.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Undoes the kernel's octal escapes in mountinfo paths (`\040` is a space, `\134` a backslash). */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * The entries of a mountinfo text. A line is
 *   36 35 98:0 /root /mnt/point rw,noatime master:1 - fuse fst rw,user_id=0
 * with a variable number of optional fields before the lone `-`; the mount point is the fifth field,
 * the filesystem type and source the two fields after `-`.
 */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    const mountPoint = fields[4];
    const fsType = fields[dash + 1];
    if (dash < 0 || mountPoint === undefined || fsType === undefined) continue;
    entries.push({ mountPoint: unescapeOctal(mountPoint), fsType, source: unescapeOctal(fields[dash + 2] ?? '') });
  }
  return entries;
}

/** The mount visible at `path` (the last one when several are stacked there), if any. */
export function mountAt(entries: MountEntry[], path: string): MountEntry | undefined {
  const target = resolve(path);
  return entries.findLast((e) => e.mountPoint === target);
}

/** fst-mount's mounts show as `fuse.fst` (libfuse's subtype); other FUSE mounts as `fuse` or `fuse.<subtype>`. */
export function isFuse(entry: MountEntry): boolean {
  return entry.fsType === 'fuse' || entry.fsType.startsWith('fuse.');
}

export async function readMountinfo(file = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountinfo(await readFile(file, 'utf8'));
}
