/**
 * The content of an open file, piece by piece, the next piece already on its way: the network
 * and the consumer (a local disk, stdout, an HTTP response) overlap, and nothing holds more than
 * two pieces at a time, whatever the file size. Used by `fst get`/`cat` and the HTTP gateway.
 */
import type { FileHandle } from './file-handle.js';

/** Bytes per read of put, get and cat. */
export const PIECE_BYTES = 8 * 1024 * 1024;

/** Pieces of `h` from `start` to `end` (exclusive; default: the end of the file). */
export async function* filePieces(h: FileHandle, start = 0, end = Infinity, pieceBytes = PIECE_BYTES): AsyncGenerator<Buffer> {
  let pos = start;
  const readAt = (p: number): Promise<Buffer> => (p >= end ? Promise.resolve(Buffer.alloc(0)) : h.read(p, Math.min(pieceBytes, end - p)));
  let next = readAt(pos);
  try {
    for (;;) {
      const data = await next;
      if (data.length === 0) return;
      pos += data.length;
      next = readAt(pos);
      yield data;
    }
  } finally {
    // The consumer stopped early (an error, a closed pipe): the read ahead is no longer wanted.
    next.catch(() => {});
  }
}
