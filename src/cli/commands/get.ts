/**
 * fst get REMOTE LOCAL: copies a file out of FST. LOCAL may be an existing directory (the file
 * keeps its name there) or "-" for stdout. The file is created with the remote permission bits
 * (less the umask, as open(2) does). Remote reads run a piece ahead of the local writes.
 */
import { open, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { FstClient } from '../../client/fst-client.js';
import { about, CliError } from '../errors.js';
import type { CliIo } from '../program.js';
import { startProgress } from '../progress.js';
import { remotePath, remotePieces } from '../transfer.js';
import { cat } from './cat.js';

async function isLocalDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function get(client: FstClient, io: CliIo, remote: string, local: string): Promise<void> {
  const source = remotePath(remote);
  if (local === '-') return cat(client, io, source);
  const st = await about(source, () => client.stat(source));
  if (st.kind === 'directory') throw new CliError(source, 'EISDIR');
  let target = local;
  if (target.endsWith('/') || (await isLocalDir(target))) target = join(target, posix.basename(source));

  const h = await about(source, () => client.open(source, { read: true }));
  try {
    const file = await about(target, () => open(target, 'w', st.mode & 0o777));
    const progress = startProgress(io, `get ${posix.basename(source)}`, st.size);
    try {
      let pos = 0;
      const pieces = remotePieces(h);
      for (;;) {
        const next = await about(source, () => pieces.next());
        if (next.done) break;
        const data = next.value;
        await about(target, () => file.write(data, 0, data.length, pos));
        pos += data.length;
        progress.update(pos);
      }
    } finally {
      progress.stop();
      await file.close();
    }
  } finally {
    await h.close();
  }
}
