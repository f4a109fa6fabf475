/**
 * fallocate(2) on an open descriptor. FST keeps no reservation: chunk space is taken when data is
 * written. So mode 0 grows the file to offset + length (the new range reads as zeros) and
 * FALLOC_FL_KEEP_SIZE changes nothing, both after checking that the cluster has room for the bytes
 * past the end (ENOSPC otherwise, before anything changed). FALLOC_FL_PUNCH_HOLE|KEEP_SIZE makes the
 * range inside the file read as zeros by writing zeros through the descriptor's write-back, in order
 * with its other writes (the space is not given back). Other modes: EOPNOTSUPP, as a filesystem
 * without them answers (ENOTSUP is EOPNOTSUPP on Linux; glibc's posix_fallocate then writes zeros itself).
 */
import { FsError } from '../../common/errors/errno.js';
import type { Attr } from '../types.js';
import type { OpContext } from './op-context.js';
import type { VfsState } from './vfs-state.js';

/** linux/falloc.h */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

/** Zeros written per call when punching a hole. */
const ZEROS = Buffer.alloc(1024 * 1024);

export async function fallocate(
  s: VfsState, fh: number, mode: number, offset: number, length: number, ctx: OpContext,
  setSize: (ino: number, size: number, fh: number, ctx: OpContext) => Promise<Attr>,
): Promise<void> {
  const h = s.handles.get(fh);
  if (!h.access.writable) throw new FsError('EBADF', 'not open for writing');
  if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length > 0 && Number.isSafeInteger(offset + length))) {
    throw new FsError('EINVAL', `invalid range ${offset}+${length}`);
  }
  const file = h.file;
  if (mode === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
    const end = Math.min(offset + length, file.size);
    for (let at = offset; at < end; at += ZEROS.length) {
      file.pendingMtimeMs = Date.now();
      await file.writer().write(at, ZEROS.subarray(0, Math.min(ZEROS.length, end - at)));
    }
    return;
  }
  if (mode !== 0 && mode !== FALLOC_FL_KEEP_SIZE) throw new FsError('ENOTSUP', `fallocate mode ${mode} is not supported (0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE are)`);
  const end = offset + length;
  const size = file.size;
  if (end <= size) return;
  const { freeBytes } = await s.meta.statfs();
  if (end - size > freeBytes) throw new FsError('ENOSPC', `fallocate of ${end - size} bytes past the end: the cluster has ${freeBytes} free`);
  if (mode === 0) await setSize(file.ino, end, fh, ctx);
}
