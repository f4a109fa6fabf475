/**
 * fallocate(2) on an open descriptor. FST keeps no reservation: chunk space is taken when data is
 * written. So mode 0 grows the file to offset + length (the new range reads as zeros) and
 * FALLOC_FL_KEEP_SIZE changes nothing, both after checking that the cluster has room for the bytes
 * past the end (ENOSPC otherwise, before anything changed). FALLOC_FL_PUNCH_HOLE|KEEP_SIZE makes the
 * range inside the file read as zeros: the 64 MiB chunks wholly inside it are dropped at the master
 * (PunchHole: they read as holes and their space is freed), the rest is written with zeros through
 * the descriptor's write-back, in order with its other writes. Other modes: EOPNOTSUPP, as a filesystem
 * without them answers (ENOTSUP is EOPNOTSUPP on Linux; glibc's posix_fallocate then writes zeros itself).
 */
import { FsError } from '../../common/errors/errno.js';
import { CHUNK_SIZE } from '../../common/ids.js';
import { callerOf, type OpContext } from './op-context.js';
import { setattr } from './ops-attr.js';
import type { VfsState } from './vfs-state.js';

/** linux/falloc.h */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

/** Zeros written per call when punching a hole. */
const ZEROS = Buffer.alloc(1024 * 1024);

export async function fallocate(s: VfsState, fh: number, mode: number, offset: number, length: number, ctx: OpContext): Promise<void> {
  const h = s.handles.get(fh);
  if (!h.access.writable) throw new FsError('EBADF', 'not open for writing');
  if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length > 0 && Number.isSafeInteger(offset + length))) {
    throw new FsError('EINVAL', `invalid range ${offset}+${length}`);
  }
  const file = h.file;
  if (mode === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
    const size = file.size;
    const end = Math.min(offset + length, size);
    if (end <= offset) return;
    // Whole chunks inside the range are dropped at the master (their space is freed); the rest
    // of the range is written with zeros.
    const first = Math.ceil(offset / CHUNK_SIZE);
    const stop = offset + length >= size ? Math.ceil(size / CHUNK_SIZE) : Math.floor(end / CHUNK_SIZE);
    if (stop > first) {
      // Pending writes into those chunks must not land after they are gone.
      await file.flush();
      const attr = await s.meta.punchHole(file.ino, first * CHUNK_SIZE, (stop - first) * CHUNK_SIZE, { caller: callerOf(ctx) });
      // Cached blocks, locations and write allocations of the dropped chunks go.
      file.truncated(attr);
      s.entries.update(attr);
    }
    const zero = async (from: number, to: number): Promise<void> => {
      for (let at = from; at < to; at += ZEROS.length) {
        file.pendingMtimeMs = Date.now();
        await file.writer().write(at, ZEROS.subarray(0, Math.min(ZEROS.length, to - at)));
      }
    };
    if (stop > first) {
      await zero(offset, Math.min(end, first * CHUNK_SIZE));
      await zero(Math.max(offset, stop * CHUNK_SIZE), end);
    } else {
      await zero(offset, end);
    }
    return;
  }
  if (mode !== 0 && mode !== FALLOC_FL_KEEP_SIZE) throw new FsError('ENOTSUP', `fallocate mode ${mode} is not supported (0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE are)`);
  const end = offset + length;
  const size = file.size;
  if (end <= size) return;
  const { freeBytes } = await s.meta.statfs();
  if (end - size > freeBytes) throw new FsError('ENOSPC', `fallocate of ${end - size} bytes past the end: the cluster has ${freeBytes} free`);
  // Grown as ftruncate through this descriptor grows it (a hole).
  if (mode === 0) await setattr(s, file.ino, { size: end }, fh, ctx);
}
