/**
 * Paths to inodes, for the path API (FstClient). Paths are absolute; "//" and "." are dropped and
 * ".." is resolved lexically (it removes the previous component), the way most object-store paths
 * and `path.posix.normalize` work. Resolution is one Vfs.lookup per component from the root;
 * symlinks met along the way are followed (their target is spliced into the path, again
 * lexically), up to 40 of them as Linux allows, then ELOOP.
 *
 * The lookups are the Vfs's (the mount's), through its entry cache: names are trusted for the
 * client's entry TTL, which is 0 for FstClient unless asked otherwise (every component then asks
 * the master, and every call sees the master's current namespace).
 */
import { FsError } from '../common/errors/errno.js';
import { NAME_MAX } from '../common/ids.js';
import { fst, type Attr } from './types.js';
import type { Vfs } from './vfs/vfs.js';

/** Most symlinks followed while resolving one path (Linux's MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;
/** The components of `names` with "", "." and ".." applied lexically (".." at the root stays there). */
export function normalizeComponents(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n === '' || n === '.') continue;
    if (n === '..') out.pop();
    else out.push(n);
  }
  return out;
}

/** The components of an absolute path: "/a//b/./c/../d/" -> ["a", "b", "d"]. */
export function parsePath(path: string): string[] {
  if (typeof path !== 'string' || path.length === 0) throw new FsError('ENOENT', 'empty path');
  if (!path.startsWith('/')) throw new FsError('EINVAL', `'${path}' is not an absolute path`);
  if (path.includes('\0')) throw new FsError('EINVAL', 'path contains a NUL byte');
  const names = normalizeComponents(path.split('/'));
  for (const n of names) {
    if (Buffer.byteLength(n) > NAME_MAX) throw new FsError('ENAMETOOLONG', `path component '${n.slice(0, 32)}...' is longer than ${NAME_MAX} bytes`);
  }
  return names;
}

/** The canonical form of an absolute path: "/" or "/a/b". */
export function normalizePath(path: string): string {
  return '/' + parsePath(path).join('/');
}

/** Splits an absolute path into its parent's components and its last name ("" for the root). */
export function splitPath(path: string): { parent: string[]; name: string } {
  const names = parsePath(path);
  const name = names.pop() ?? '';
  return { parent: names, name };
}

export class PathResolver {
  /** `root`: the inode paths start from (this client's root: the credential's subtree). */
  constructor(private readonly vfs: Vfs, private readonly root: () => number) {}

  /** The attributes of what `path` names; a final symlink is followed only when `follow`. */
  resolve(path: string, follow = true): Promise<Attr> {
    return this.walk(parsePath(path), follow);
  }

  /** The directory that holds the last component of `path`, and that component. */
  async resolveParent(path: string): Promise<{ dir: Attr; name: string }> {
    const { parent, name } = splitPath(path);
    if (name === '') throw new FsError('EBUSY', 'the root directory has no parent entry');
    const dir = await this.walk(parent, true);
    if (dir.type !== fst.FileType.DIRECTORY) throw new FsError('ENOTDIR', `'/${parent.join('/')}' is not a directory`);
    return { dir, name };
  }

  /** Looks `components` up from the root, following symlinks on the way. */
  async walk(components: readonly string[], follow: boolean): Promise<Attr> {
    let todo = [...components];
    let done: string[] = [];
    let ino = this.root();
    let attr: Attr | undefined;
    let links = 0;
    while (todo.length > 0) {
      const name = todo.shift()!;
      const found = await this.lookup(ino, name);
      const last = todo.length === 0;
      if (found.type === fst.FileType.SYMLINK && (!last || follow)) {
        if (++links > MAX_SYMLINKS) throw new FsError('ELOOP', `more than ${MAX_SYMLINKS} symlinks in '/${components.join('/')}'`);
        const target = await this.vfs.readlink(found.ino);
        const base = target.startsWith('/') ? [] : done;
        todo = normalizeComponents([...base, ...target.split('/'), ...todo]);
        done = [];
        ino = this.root();
        attr = undefined;
        continue;
      }
      if (!last && found.type !== fst.FileType.DIRECTORY) {
        throw new FsError('ENOTDIR', `'/${[...done, name].join('/')}' is not a directory`);
      }
      done.push(name);
      ino = found.ino;
      attr = found;
    }
    return attr ?? (await this.vfs.getattr(this.root())).value;
  }

  /** `name` in `parent`; attributes a lookup says not to trust (a listing's last seen) are asked for. */
  private async lookup(parent: number, name: string): Promise<Attr> {
    const found = await this.vfs.lookup(parent, name);
    return found.attrTtlSec === 0 ? (await this.vfs.getattr(found.value.ino)).value : found.value;
  }
}
