/**
 * Confinement of a credential to a subtree (`fstadmin credentials create --path /projects/a`):
 * the client sees that directory as its root (GetIdentity's root_ino) and the master refuses every
 * call that names an inode outside it (EACCES), whatever the client learnt or guessed. An inode is
 * inside when it is the subtree's root or one of its names is in a directory inside; directories
 * have one parent (their `parent` column), files any number (`dentries_by_ino`), so a hard link
 * made inside from outside is impossible (Link names its source inode, which must be inside) and a
 * file linked into the subtree by an admin is reachable there. `..` of the subtree's root is the
 * root itself. Checked on the reader at each call: the tree may change between calls (a rename
 * moving a directory out ends access below it at once).
 */
import { FsError } from '../../common/errors/errno.js';
import { ROOT_INO } from '../../common/ids.js';
import type { fst } from '../../proto-gen/fst.js';
import type { Reader } from '../db/engine.js';
import { resolvePath } from '../tree/paths.js';

/** Every inode a MasterService request names (parents, targets, directories to list or hold). */
export function inodesNamed(method: string, req: Record<string, unknown>): number[] {
  const n = (v: unknown): number[] => (v === undefined || v === null || Number(v) === 0 ? [] : [Number(v)]);
  const many = (v: unknown): number[] => (Array.isArray(v) ? v.map(Number) : []);
  switch (method) {
    case 'Lookup': case 'Mknod': case 'Mkdir': case 'Unlink': case 'Rmdir': case 'Symlink':
      return n(req.parent);
    case 'Rename':
      return [...n(req.parent), ...n(req.newParent)];
    case 'Link':
      return [...n(req.ino), ...n(req.newParent)];
    case 'ReaddirMany':
      return many(req.inos);
    case 'UpdateOrphans':
      return [];
    case 'Delegate':
      return [...many(req.acquire), ...many(req.release)];
    case 'ApplyChanges': {
      const out: number[] = [];
      for (const c of (req.changes ?? []) as fst.IChange[]) {
        const op = (c.mkdir ?? c.symlink ?? c.unlink ?? c.rmdir ?? c.setattr) as { parent?: unknown; ino?: unknown } | null | undefined;
        if (c.rename) out.push(...n(c.rename.parent), ...n(c.rename.newParent));
        else if (op) out.push(...n(op.parent), ...n(op.ino));
        out.push(...n(c.parent));
      }
      return out;
    }
    default:
      return n(req.ino);
  }
}

/** How deep a walk up may go before the tree is taken for damaged. */
const MAX_DEPTH = 4096;

async function dirWithin(q: Reader, dir: number, root: number): Promise<boolean> {
  for (let ino = dir, depth = 0; depth < MAX_DEPTH; depth++) {
    if (ino === root) return true;
    if (ino === ROOT_INO) return false;
    const row = await q.get<{ parent: number | null }>('SELECT parent FROM inodes WHERE ino = ?', [ino]);
    if (!row || row.parent === null || row.parent === ino) return false;
    ino = row.parent;
  }
  return false;
}

/** Whether inode `ino` is `root` or has a name in a directory under it. */
export async function within(q: Reader, ino: number, root: number): Promise<boolean> {
  if (ino === root) return true;
  const row = await q.get<{ type: number; parent: number | null }>('SELECT type, parent FROM inodes WHERE ino = ?', [ino]);
  // Unknown inodes are left to the call itself (ENOENT, or a number reserved for a delegation).
  if (!row) return true;
  if (row.parent !== null) return dirWithin(q, ino, root);
  const names = await q.all<{ parent: number }>('SELECT parent FROM dentries WHERE ino = ? LIMIT 64', [ino]);
  for (const { parent } of names) if (await dirWithin(q, parent, root)) return true;
  return false;
}

/** Resolves credentials' subtree paths to their root inodes, once each (per master process). */
export class SubtreeRoots {
  private readonly roots = new Map<string, number>();

  constructor(private readonly reader: Reader) {}

  /** The root inode of `path` (a directory); EACCES if it is missing or not a directory. */
  async rootOf(path: string): Promise<number> {
    if (path === '/') return ROOT_INO;
    const known = this.roots.get(path);
    if (known !== undefined) return known;
    let row;
    try {
      row = await resolvePath(this.reader, path);
    } catch (e) {
      throw new FsError('EACCES', `the credential's subtree ${path} does not exist (${(e as Error).message})`);
    }
    if (row.parent === null) throw new FsError('EACCES', `the credential's subtree ${path} is not a directory`);
    this.roots.set(path, row.ino);
    return row.ino;
  }

  /**
   * Refuses (EACCES) a request naming an inode outside `root`; a lookup of `..` at the root is
   * turned into one of `.`, as a chroot does.
   */
  async confine(method: string, req: Record<string, unknown>, root: number): Promise<void> {
    if (root === ROOT_INO) return;
    if (method === 'Lookup' && req.name === '..' && Number(req.parent) === root) req.name = '.';
    for (const ino of inodesNamed(method, req)) {
      if (!(await within(this.reader, ino, root))) throw new FsError('EACCES', `inode ${ino} is outside this credential's subtree`);
    }
  }
}
