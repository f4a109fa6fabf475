/**
 * fuse-native's operations, each converting its arguments, calling the Vfs, and answering with
 * `cb(0, result)` or `cb(Fuse[code])`. The only file besides mount.ts that knows FUSE exists; the
 * only place an errno name becomes a number. Every answer goes through `track`, which also counts
 * and times the op when the mount has metrics.
 */
import Fuse from 'fuse-native';
import { errnoNumber, type ErrnoName } from '../../common/errors/errno.js';
import { toErrno } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';
import { OK } from '../../common/metrics/op-recorder.js';
import type { MountMetrics } from '../../common/metrics/mount-metrics.js';
import type { Vfs } from '../vfs/vfs.js';
import type { OpContext } from '../vfs/op-context.js';
import type { TimeArg } from '../vfs/ops-attr.js';
import { toFuseStat } from './stat.js';

type Cb = (code: number, ...result: unknown[]) => void;

/** The negative host errno FUSE expects (fuse-native's table lacks some, e.g. ENOTSUP). */
function errnoOf(code: ErrnoName): number {
  const n = (Fuse as unknown as Record<string, number | undefined>)[code];
  return typeof n === 'number' ? n : -errnoNumber(code);
}

/** Maps what utimens hands over (patched fuse-native) to a Vfs time argument. */
function timeArg(t: unknown): TimeArg {
  if (t === 'now' || t === 'omit') return t;
  if (t && typeof t === 'object' && 'sec' in t) return t as TimeArg;
  const ms = t instanceof Date ? t.getTime() : Number(t);
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
}

export interface AdapterOptions {
  vfs: Vfs;
  log: Logger;
  /** The caller of the current request (fuse_get_context), when the binding exposes it. */
  context: () => OpContext;
  /** Where ops and bytes are counted; absent without metrics. */
  metrics?: MountMetrics;
}

export function fuseOperations(o: AdapterOptions): Record<string, (...args: never[]) => void> {
  const { vfs, log, metrics } = o;
  const debug = log.level === 'debug';
  const timed = debug || metrics !== undefined;
  /** The errno name of a failure; logs what is unexpected, and EIO. */
  const errnoName = (op: string, path: string | undefined, e: unknown): ErrnoName => {
    const code = toErrno(e, (u) => log.error('unexpected error in FUSE operation', { op, path, err: u }));
    if (code === 'EIO') log.warn('FUSE operation failed', { op, path, err: e });
    return code;
  };
  /**
   * Runs `fn` for `op` (`path` only for logs), then answers with `ok(result)` or `failed(-errno)`;
   * counts and times the op when there are metrics, traces it at debug level.
   */
  function track<T>(op: string, path: string | undefined, fn: () => Promise<T>, ok: (r: T) => void, failed: (errno: number) => void): void {
    const t0 = timed ? performance.now() : 0;
    fn().then((r) => {
      if (timed) done(op, path, t0, OK);
      ok(r);
    }, (e: unknown) => {
      const code = errnoName(op, path, e);
      if (timed) done(op, path, t0, code);
      failed(errnoOf(code));
    });
  }
  function done(op: string, path: string | undefined, t0: number, outcome: string): void {
    metrics?.op(op).record(t0, outcome);
    if (debug) log.debug(outcome === OK ? 'op' : 'op failed', { op, path, ms: +(performance.now() - t0).toFixed(3), code: outcome });
  }
  /** `track` for ops answering cb(0, ...mapped result) or cb(-errno). */
  function run<T>(op: string, cb: Cb, fn: () => Promise<T>, map: (r: T) => unknown[] = () => [], path?: string): void {
    track(op, path, fn, (r) => cb(0, ...map(r)), (errno) => cb(errno));
  }
  /** Ops fst-mount answers at once without the Vfs, counted like the others. */
  const answered = (): Promise<void> => Promise.resolve();

  return {
    init: (cb: Cb) => cb(0),
    access: (path: string, _mode: number, cb: Cb) => run('access', cb, () => vfs.access(path)),
    statfs: (_path: string, cb: Cb) => run('statfs', cb, () => vfs.statfs(), (s) => [s]),
    getattr: (path: string, cb: Cb) => run('getattr', cb, () => vfs.getattr(path), (a) => [toFuseStat(a)], path),
    fgetattr: (_path: string, fd: number, cb: Cb) => run('fgetattr', cb, () => vfs.fgetattr(fd), (a) => [toFuseStat(a)]),
    flush: (_path: string, fd: number, cb: Cb) => run('flush', cb, () => vfs.flush(fd)),
    // fuse-native passes datasync before the descriptor here, unlike every other fd operation.
    fsync: (_path: string, _datasync: number, fd: number, cb: Cb) => run('fsync', cb, () => vfs.fsync(fd)),
    fsyncdir: (_path: string, _datasync: number, _fd: number, cb: Cb) => run('fsyncdir', cb, answered),
    readdir: (path: string, cb: Cb) => run('readdir', cb, () => vfs.readdir(path), (l) => [l.names, l.attrs.map(toFuseStat)]),
    truncate: (path: string, size: number, cb: Cb) => run('truncate', cb, () => vfs.truncate(path, size, o.context())),
    ftruncate: (_path: string, fd: number, size: number, cb: Cb) => run('ftruncate', cb, () => vfs.ftruncate(fd, size, o.context())),
    readlink: (path: string, cb: Cb) => run('readlink', cb, () => vfs.readlink(path), (t) => [t]),
    chown: (path: string, uid: number, gid: number, cb: Cb) => run('chown', cb, () => vfs.chown(path, uid, gid, o.context())),
    chmod: (path: string, mode: number, cb: Cb) => run('chmod', cb, () => vfs.chmod(path, mode, o.context())),
    mknod: (path: string, mode: number, dev: number, cb: Cb) => run('mknod', cb, () => vfs.mknod(path, mode, dev, o.context())),
    setxattr: (path: string, name: string, value: Buffer, _position: number, flags: number, cb: Cb) =>
      run('setxattr', cb, () => vfs.setxattr(path, name, value, flags, o.context())),
    getxattr: (path: string, name: string, _position: number, cb: Cb) => run('getxattr', cb, () => vfs.getxattr(path, name), (v) => [v]),
    listxattr: (path: string, cb: Cb) => run('listxattr', cb, () => vfs.listxattr(path), (l) => [l]),
    removexattr: (path: string, name: string, cb: Cb) => run('removexattr', cb, () => vfs.removexattr(path, name, o.context())),
    // open and create answer the fd and open options (patched binding): 1 = direct_io.
    open: (path: string, flags: number, cb: Cb) => run('open', cb, () => vfs.open(path, flags), (r) => [r.fh, r.directIo ? 1 : 0], path),
    opendir: (_path: string, _flags: number, cb: Cb) => run('opendir', cb, answered, () => [0]),
    // read and write answer with the byte count (or a negative errno) as the first argument.
    read: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      track('read', undefined, () => vfs.read(fd, pos, len), (data) => {
        const n = data.copy(buf, 0, 0, Math.min(len, data.length));
        metrics?.bytesRead.inc(n);
        cb(n);
      }, cb);
    },
    write: (_path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => {
      track('write', undefined, () => vfs.write(fd, buf.subarray(0, len), pos), (n) => {
        metrics?.bytesWritten.inc(n);
        cb(n);
      }, cb);
    },
    release: (_path: string, fd: number, cb: Cb) => run('release', cb, () => vfs.release(fd)),
    releasedir: (_path: string, _fd: number, cb: Cb) => run('releasedir', cb, answered),
    create: (path: string, mode: number, cb: Cb, flags?: number) =>
      run('create', cb, () => vfs.create(path, mode, flags ?? 0, o.context()), (r) => [r.fh, r.directIo ? 1 : 0]),
    utimens: (path: string, atime: unknown, mtime: unknown, cb: Cb) =>
      run('utimens', cb, () => vfs.utimens(path, timeArg(atime), timeArg(mtime), o.context())),
    unlink: (path: string, cb: Cb) => run('unlink', cb, () => vfs.unlink(path, o.context()), undefined, path),
    rename: (from: string, to: string, cb: Cb) => run('rename', cb, () => vfs.rename(from, to, o.context()), undefined, `${from} -> ${to}`),
    link: (existing: string, newPath: string, cb: Cb) => run('link', cb, () => vfs.link(existing, newPath, o.context())),
    symlink: (target: string, path: string, cb: Cb) => run('symlink', cb, () => vfs.symlink(target, path, o.context())),
    mkdir: (path: string, mode: number, cb: Cb) => run('mkdir', cb, () => vfs.mkdir(path, mode, o.context())),
    rmdir: (path: string, cb: Cb) => run('rmdir', cb, () => vfs.rmdir(path, o.context())),
  };
}
