/**
 * Applies one op to a root directory with node:fs/promises and normalizes what happened into an
 * Outcome that can be compared between two roots: `{ ok: true, value }` or `{ ok: false, code }`
 * with the errno name. Values hold only what must agree between a FUSE mount and a local directory
 * (see statValue); `detail` carries what is useful for diagnosis or tolerance checks but is never
 * compared (the bytes read, the inode number).
 *
 * Open descriptors live in the root's own table under the op's logical id, so one sequence drives
 * both roots identically. An fd op whose id is not in the table (its open failed on this root)
 * answers EBADF, as the syscall would on a closed descriptor.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import {
  chmod, chown, link, lstat, mkdir, open, readdir, readlink, rename, rmdir, stat, symlink, truncate, unlink, writeFile, type FileHandle,
} from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { type OpenFlag, type Op } from './ops.js';
import { payload } from './rng.js';
// Other users run some ops (setpriv, real credentials: FUSE sees only uid, gid and pid).
import { OTHER_ARGV, USER_ARGV } from '../../helpers/posix-users.js';

export type Outcome =
  | { ok: true; value: unknown; detail?: { data?: Buffer; ino?: number } }
  | { ok: false; code: string };


/** What another user does (argv: op path arg; a write's bytes on stdin); prints "ok" or the errno name. */
const USER_OP = `
const fs = require('node:fs');
const [op, path, arg] = process.argv.slice(2);
try {
  if (op === 'chgrp') fs.chownSync(path, -1, Number(arg));
  else {
    const data = fs.readFileSync(0);
    const fd = fs.openSync(path, fs.constants.O_WRONLY);
    try { fs.writeSync(fd, data, 0, data.length, 0); } finally { fs.closeSync(fd); }
  }
  process.stdout.write('ok');
} catch (e) {
  process.stdout.write(e.code || String(e));
}
`;

/** fallocate(2) by its C name (argv: path mode offset length); prints "ok" or the errno name. */
const FALLOCATE = `
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
path, mode, off, ln = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
try:
    fd = os.open(path, os.O_RDWR)
except OSError as e:
    print(errno.errorcode[e.errno], end='')
    sys.exit(0)
r = libc.fallocate(fd, mode, off, ln)
err = ctypes.get_errno()
try:
    os.close(fd)
except OSError as e:
    if r == 0:
        r, err = -1, e.errno
print('ok' if r == 0 else errno.errorcode[err], end='')
`;

let helpers: string | undefined;

/** Writes the helper programs into `dir` (readable by the other users); call before applying ops. */
export async function installHelpers(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFile(join(dir, 'user-op.cjs'), USER_OP, { mode: 0o644 });
  await writeFile(join(dir, 'fallocate.py'), FALLOCATE, { mode: 0o644 });
  helpers = dir;
}

function helper(name: string): string {
  if (!helpers) throw new Error('differential: installHelpers() was not called');
  return join(helpers, name);
}

/**
 * Runs a program to its end: its stdout as the outcome ("ok" or an errno name). `fd3`: a descriptor
 * the program gets as its fd 3 (flock locks that open file, not a new one).
 */
function runProgram(argv: string[], input?: Buffer, fd3?: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe', ...(fd3 === undefined ? [] : [fd3])] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (fd3 !== undefined) resolve(code === 0 ? ok(null) : code === 75 ? { ok: false, code: 'EWOULDBLOCK' } : { ok: false, code: `exit ${code}: ${err.trim()}` });
      else if (out === 'ok') resolve(ok(null));
      else if (/^E[A-Z0-9]+$/.test(out)) resolve({ ok: false, code: out });
      else reject(new Error(`${argv.join(' ')} exited ${code}: ${out} ${err}`));
    });
    child.stdin!.end(input);
  });
}

/** libfuse's silly-rename of a file unlinked (or renamed over) while open: `.fuse_hidden<ino><n>`. */
export const isFuseHidden = (name: string): boolean => name.startsWith('.fuse_hidden');

/** One side of the comparison: a directory and its table of open descriptors. */
export class Root {
  readonly fds = new Map<string, FileHandle>();
  /** Descriptors that took an flock: unlocked before they close (see run, 'close'). */
  readonly flocked = new Set<string>();
  constructor(readonly dir: string, readonly name: string) {}

  abs(p: string): string {
    return p === '.' ? this.dir : join(this.dir, p);
  }

  /** Closes whatever is still open, ignoring errors (cleanup after a failed run). */
  async closeAll(): Promise<void> {
    const handles = [...this.fds.values()];
    this.fds.clear();
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  }
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND } = constants;
const FLAG_BITS: Readonly<Record<OpenFlag, number>> = {
  r: O_RDONLY,
  'r+': O_RDWR,
  w: O_WRONLY | O_CREAT | O_TRUNC,
  'w+': O_RDWR | O_CREAT | O_TRUNC,
  wx: O_WRONLY | O_CREAT | O_TRUNC | O_EXCL,
  a: O_WRONLY | O_APPEND | O_CREAT,
  'a+': O_RDWR | O_APPEND | O_CREAT,
  ax: O_WRONLY | O_APPEND | O_CREAT | O_EXCL,
};

export type FileType = 'file' | 'dir' | 'symlink' | 'other';

export function fileType(st: Stats): FileType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

/**
 * What of a stat must agree: type, permission bits, link count, owner and group, and the size of
 * regular files and symlinks. Not compared, on purpose: st_ino and st_dev (each filesystem numbers
 * its own), times (set by two clocks at different moments), st_blocks
 * and st_blksize (allocation policy: FST reports the size rounded up, ext4 real extents), and the
 * size of directories (ext4 reports allocated directory blocks, FST its own figure; POSIX leaves it
 * unspecified).
 */
export function statValue(st: Stats): { type: FileType; mode: string; nlink: number; uid: number; gid: number; size?: number } {
  const type = fileType(st);
  const v = { type, mode: (st.mode & 0o7777).toString(8), nlink: st.nlink, uid: st.uid, gid: st.gid };
  return type === 'dir' ? v : { ...v, size: st.size };
}

const ok = (value: unknown, detail?: { data?: Buffer; ino?: number }): Outcome => (detail ? { ok: true, value, detail } : { ok: true, value });
/** An op whose success carries no value (rename, unlink, ...). */
async function unit(p: Promise<unknown>): Promise<Outcome> {
  await p;
  return ok(null);
}
const shortSha = (b: Buffer): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

function readValue(buf: Buffer, n: number): Outcome {
  const data = buf.subarray(0, n);
  return ok({ n, sha: shortSha(data) }, { data });
}

function statOutcome(st: Stats): Outcome {
  return ok(statValue(st), { ino: st.ino });
}

/** open, fn, close: the error of fn wins over the error of close, as a caller would see it. */
async function withFile<T>(path: string, flags: number, mode: number, fn: (fh: FileHandle) => Promise<T>): Promise<T> {
  const fh = await open(path, flags, mode);
  let result: T;
  try {
    result = await fn(fh);
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e;
  }
  await fh.close();
  return result;
}

async function pread(fh: FileHandle, offset: number, len: number): Promise<Outcome> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, offset);
  return readValue(buf, bytesRead);
}

async function pwrite(fh: FileHandle, offset: number, len: number, seed: number): Promise<number> {
  const { bytesWritten } = await fh.write(payload(seed, len), 0, len, offset);
  return bytesWritten;
}

async function run(root: Root, op: Op): Promise<Outcome> {
  if ('id' in op && op.kind !== 'open') {
    const fh = root.fds.get(op.id);
    if (!fh) return { ok: false, code: 'EBADF' };
    switch (op.kind) {
      case 'fwrite': return ok(await pwrite(fh, op.offset, op.len, op.data));
      case 'fread': return pread(fh, op.offset, op.len);
      case 'ftruncate': return unit(fh.truncate(op.size));
      case 'fstat': return statOutcome(await fh.stat());
      case 'fsync': return unit(fh.sync());
      case 'close':
        // The descriptor is gone whatever close answers (close(2) never leaves it open).
        root.fds.delete(op.id);
        // An flock goes at the last close; through FUSE the kernel sends that release after close
        // returned, so a later flock could still meet it: unlock first, on both sides alike.
        if (root.flocked.delete(op.id)) await runProgram(['flock', '-u', '3'], undefined, fh.fd);
        return unit(fh.close());
      case 'flock': {
        const flag = op.lock === 'sh' ? '-s' : op.lock === 'ex' ? '-x' : '-u';
        const out = await runProgram(['flock', '-n', '-E', '75', flag, '3'], undefined, fh.fd);
        if (out.ok && op.lock !== 'un') root.flocked.add(op.id);
        return out;
      }
    }
  }
  switch (op.kind) {
    case 'create': {
      const flags = O_WRONLY | O_CREAT | (op.excl ? O_EXCL : 0) | (op.trunc ? O_TRUNC : 0);
      return ok(await withFile(root.abs(op.path), flags, op.mode, (fh) => (op.len > 0 ? pwrite(fh, 0, op.len, op.data) : Promise.resolve(0))));
    }
    case 'write':
      return ok(await withFile(root.abs(op.path), O_WRONLY, 0, (fh) => pwrite(fh, op.offset, op.len, op.data)));
    case 'read':
      return withFile(root.abs(op.path), O_RDONLY, 0, (fh) => pread(fh, op.offset, op.len));
    // Node has no truncate(2): it opens the path O_RDWR and calls ftruncate (a FUSE setattr with fh).
    case 'truncate': return unit(truncate(root.abs(op.path), op.size));
    case 'rename': return unit(rename(root.abs(op.from), root.abs(op.to)));
    case 'unlink': return unit(unlink(root.abs(op.path)));
    case 'mkdir': return unit(mkdir(root.abs(op.path), { mode: op.mode }));
    case 'rmdir': return unit(rmdir(root.abs(op.path)));
    case 'link': return unit(link(root.abs(op.from), root.abs(op.to)));
    case 'symlink': return unit(symlink(op.target, root.abs(op.path)));
    case 'readlink': return ok(await readlink(root.abs(op.path)));
    case 'chmod': return unit(chmod(root.abs(op.path), op.mode));
    case 'chgrp':
      return op.user
        ? runProgram([...USER_ARGV, process.execPath, helper('user-op.cjs'), 'chgrp', root.abs(op.path), String(op.gid)])
        : unit(chown(root.abs(op.path), -1, op.gid));
    case 'uwrite':
      return runProgram([...OTHER_ARGV, process.execPath, helper('user-op.cjs'), 'write', root.abs(op.path)], payload(op.data, op.len));
    case 'fallocate':
      return runProgram(['python3', helper('fallocate.py'), root.abs(op.path), String(op.mode), String(op.offset), String(op.len)]);
    case 'stat': return statOutcome(await (op.follow ? stat : lstat)(root.abs(op.path)));
    case 'readdir': {
      const entries = await readdir(root.abs(op.path), { withFileTypes: true });
      const suffix = (e: (typeof entries)[number]): string => (e.isDirectory() ? '/' : e.isSymbolicLink() ? '@' : e.isFile() ? '' : '?');
      return ok(entries.filter((e) => !isFuseHidden(e.name)).map((e) => e.name + suffix(e)).sort());
    }
    case 'open': {
      const fh = await open(root.abs(op.path), FLAG_BITS[op.flags], op.mode);
      root.fds.set(op.id, fh);
      return ok(null);
    }
    default:
      throw new Error(`unhandled op ${JSON.stringify(op)}`);
  }
}

/** errno numbers -> names, for the codes libuv has no name for (it reports ESTALE as "Unknown system error -116"). */
const ERRNO_BY_NUMBER = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function errnoName(e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  if (typeof err?.code === 'string' && !err.code.startsWith('Unknown system error')) return err.code;
  if (typeof err?.errno === 'number') return ERRNO_BY_NUMBER.get(-err.errno) ?? `errno ${err.errno}`;
  return `UNKNOWN(${e instanceof Error ? e.message : String(e)})`;
}

/** Applies `op` to `root`; never throws (errors become `{ ok: false, code }`). */
export async function apply(root: Root, op: Op): Promise<Outcome> {
  try {
    return await run(root, op);
  } catch (e) {
    return { ok: false, code: errnoName(e) };
  }
}
