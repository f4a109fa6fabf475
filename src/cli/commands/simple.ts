/** fst rm [-r], fst mkdir [-p] and fst stat: one client call each, and stat's stat(1)-like output. */
import type { FstClient } from '../../client/fst-client.js';
import { statModeString, type FileStat } from '../../client/file-stat.js';
import { about } from '../errors.js';
import { formatFullTime } from '../format.js';
import type { CliIo } from '../program.js';
import { remotePath } from '../transfer.js';

export async function rm(client: FstClient, path: string, recursive: boolean): Promise<void> {
  const p = remotePath(path);
  await about(p, () => client.rm(p, { recursive }));
}

export async function mkdir(client: FstClient, path: string, parents: boolean): Promise<void> {
  const p = remotePath(path);
  await about(p, () => (parents ? client.mkdirp(p) : client.mkdir(p)));
}

const kindNames: Record<FileStat['kind'], string> = {
  file: 'regular file',
  directory: 'directory',
  symlink: 'symbolic link',
  fifo: 'fifo',
  'char-device': 'character special file',
  'block-device': 'block special file',
  socket: 'socket',
  unknown: 'unknown',
};

/** stat(1)'s layout: the link itself is described, not what it points to. */
export async function stat(client: FstClient, io: CliIo, path: string): Promise<void> {
  const p = remotePath(path);
  const st = await about(p, () => client.lstat(p));
  const target = st.kind === 'symlink' ? ` -> ${await about(p, () => client.readlink(p))}` : '';
  const perm = (st.mode & 0o7777).toString(8).padStart(4, '0');
  io.stdout.write([
    `  File: ${p}${target}`,
    `  Size: ${st.size}\tType: ${kindNames[st.kind]}`,
    ` Inode: ${st.ino}\tLinks: ${st.nlink}\tReplication: ${st.replication}`,
    `Access: (${perm}/${statModeString(st)})  Uid: ${st.uid}  Gid: ${st.gid}`,
    `Access: ${formatFullTime(st.atime)}`,
    `Modify: ${formatFullTime(st.mtime)}`,
    `Change: ${formatFullTime(st.ctime)}`,
  ].join('\n') + '\n');
}
