/**
 * fst put LOCAL REMOTE: copies a local file into FST, durably (fsync, then close), with the local
 * file's permission bits. REMOTE may be an existing directory (or end with "/"): the file keeps its
 * name there. The local file is read in 8 MiB pieces into two reused buffers, the next piece being
 * read while the current one is written, so memory stays flat whatever the size.
 */
import { open, stat } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import type { FstClient } from '../../client/fst-client.js';
import { about, CliError } from '../errors.js';
import type { CliIo } from '../program.js';
import { startProgress } from '../progress.js';
import { PIECE_BYTES, remotePath } from '../transfer.js';

async function isRemoteDir(client: FstClient, path: string): Promise<boolean> {
  try {
    return (await client.stat(path)).kind === 'directory';
  } catch {
    return false;
  }
}

export async function put(client: FstClient, io: CliIo, local: string, remote: string): Promise<void> {
  const st = await about(local, () => stat(local));
  if (st.isDirectory()) throw new CliError(local, 'EISDIR');
  let target = remotePath(remote);
  if (target.endsWith('/') || (await isRemoteDir(client, target))) target = posix.join(target, basename(local));
  const mode = st.mode & 0o7777;

  const file = await about(local, () => open(local, 'r'));
  try {
    const h = await about(target, () => client.open(target, { create: true, truncate: true, write: true }, mode));
    const progress = startProgress(io, `put ${basename(local)}`, st.size);
    const bufs = [Buffer.allocUnsafe(PIECE_BYTES), Buffer.allocUnsafe(PIECE_BYTES)] as const;
    let reading = file.read(bufs[0], 0, PIECE_BYTES, 0);
    let pos = 0;
    try {
      for (let k = 0; ;) {
        const { bytesRead } = await about(local, () => reading);
        if (bytesRead === 0) break;
        const buf = bufs[k]!;
        k ^= 1;
        // The handle copies what it keeps, so the other buffer is free for the next local read.
        reading = file.read(bufs[k]!, 0, PIECE_BYTES, pos + bytesRead);
        await about(target, () => h.write(pos, buf.subarray(0, bytesRead)));
        pos += bytesRead;
        progress.update(pos);
      }
      await about(target, () => h.fsync());
      // Once more after fsync, so that the rate shown is that of durable data.
      progress.update(pos);
      // An existing file keeps its mode through open(O_CREAT): set the local one explicitly.
      if (((await about(target, () => h.stat())).mode & 0o7777) !== mode) await about(target, () => client.chmod(target, mode));
    } catch (e) {
      reading.catch(() => {});
      await h.close().catch(() => {});
      throw e;
    } finally {
      progress.stop();
    }
    await about(target, () => h.close());
  } finally {
    await file.close();
  }
}
