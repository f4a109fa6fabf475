/**
 * Moving file data between the CLI and FST in large pieces (client/file-pieces.ts).
 */
export { filePieces as remotePieces, PIECE_BYTES } from '../client/file-pieces.js';

/** A remote path as the user typed it, made absolute: "a/b" means "/a/b". */
export function remotePath(p: string): string {
  return p.startsWith('/') ? p : `/${p}`;
}
