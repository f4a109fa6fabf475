/**
 * fst ls [-l] PATH: the entries of a directory in name order, or the file itself when PATH is not
 * a directory. -l prints mode, links, owner, group, size, mtime and name (symlinks with their
 * target), in aligned columns as ls -l does.
 */
import { posix } from 'node:path';
import type { FstClient } from '../../client/fst-client.js';
import { statModeString, type FileStat } from '../../client/file-stat.js';
import { about } from '../errors.js';
import { formatShortTime, formatTable } from '../format.js';
import type { CliIo } from '../program.js';
import { remotePath } from '../transfer.js';

/** The columns of one `ls -l` line. */
export function longRow(st: FileStat, name: string, target?: string): string[] {
  return [
    statModeString(st),
    String(st.nlink),
    String(st.uid),
    String(st.gid),
    String(st.size),
    formatShortTime(st.mtimeMs),
    target === undefined ? name : `${name} -> ${target}`,
  ];
}

export async function ls(client: FstClient, io: CliIo, path: string, long: boolean): Promise<void> {
  const p = remotePath(path);
  const st = await about(p, () => client.stat(p));
  let lines: string[];
  if (st.kind !== 'directory') {
    lines = long ? formatTable([longRow(st, path)], new Set([1, 4])) : [path];
  } else {
    const entries = await about(p, () => client.readdir(p, { withAttrs: long }));
    if (!long) {
      lines = entries.map((e) => e.name);
    } else {
      const rows: string[][] = [];
      for (const e of entries) {
        const child = posix.join(p, e.name);
        const est = e.stat ?? (await about(child, () => client.lstat(child)));
        const target = est.kind === 'symlink' ? await about(child, () => client.readlink(child)) : undefined;
        rows.push(longRow(est, e.name, target));
      }
      lines = formatTable(rows, new Set([1, 4]));
    }
  }
  if (lines.length > 0) io.stdout.write(lines.join('\n') + '\n');
}
