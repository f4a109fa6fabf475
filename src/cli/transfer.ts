/**
 * Moving file data between the CLI and FST in large pieces: remote reads run one piece ahead of
 * the consumer (so the network and the local disk or stdout overlap), and nothing holds more than
 * two pieces at a time, whatever the file size.
 */
import type { FileHandle } from '../client/file-handle.js';

/** Bytes per read or write call of put, get and cat. */
export const PIECE_BYTES = 8 * 1024 * 1024;

/** The content of an open remote file, piece by piece, the next piece already on its way. */
export async function* remotePieces(h: FileHandle, pieceBytes = PIECE_BYTES): AsyncGenerator<Buffer> {
  let pos = 0;
  let next = h.read(0, pieceBytes);
  try {
    for (;;) {
      const data = await next;
      if (data.length === 0) return;
      pos += data.length;
      next = h.read(pos, pieceBytes);
      yield data;
    }
  } finally {
    // The consumer stopped early (an error, a closed pipe): the read ahead is no longer wanted.
    next.catch(() => {});
  }
}

/** A remote path as the user typed it, made absolute: "a/b" means "/a/b". */
export function remotePath(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}
