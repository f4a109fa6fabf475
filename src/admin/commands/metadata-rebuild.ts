/**
 * fstadmin metadata rebuild [--into DIR] [--force] [--json]: recreates files from the chunks the
 * live chunkservers hold that no file uses, by the owner record in each chunk's meta file, under
 * DIR (default /lost+found) at their last known paths (AdminService.RebuildMetadata). For a master
 * whose metadata was lost with no backup left: docs/OPERATIONS.md, "Rebuilding lost metadata".
 *
 * Human output: one line per file (its path, size, chunks, the inode its chunks name), then a
 * summary. --json prints the answer as protobufjs's toObject gives it ({longs: Number, defaults:
 * true}): { "into", "servers", "serversUnreachable", "files", "bytes", "chunks", "unowned",
 * "superseded", "alreadyUsed", "skipped", "rebuilt": [{ "path", "ino", "oldIno", "lastKnownPath",
 * "size", "chunks" }], "truncated" }.
 *
 * Exit status: 0 when the rebuild ran (whether or not it found anything); 1 when the master
 * refused (a registered chunkserver is not alive: start it, or --force) or failed; 2 for usage.
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import { formatBytes, formatTable } from '../../cli/format.js';
import type { CliIo } from '../../cli/program.js';
import { adminCall, printJson } from '../admin-rpc.js';

/** Every chunkserver lists every chunk, then the files are written: minutes on big clusters. */
const REBUILD_TIMEOUT_MS = 60 * 60_000;

interface RebuiltJson {
  path: string;
  ino: number;
  oldIno: number;
  lastKnownPath: string;
  size: number;
  chunks: number;
}

export interface RebuildJson {
  into: string;
  servers: string[];
  serversUnreachable: string[];
  files: number;
  bytes: number;
  chunks: number;
  unowned: number;
  superseded: number;
  alreadyUsed: number;
  skipped: number;
  rebuilt: RebuiltJson[];
  truncated: boolean;
}

/** The human form of an answer, as lines. */
export function formatRebuild(r: RebuildJson): string[] {
  const rows = r.rebuilt.map((f) => [f.path, formatBytes(f.size), `${f.chunks} chunk${f.chunks === 1 ? '' : 's'}`, f.oldIno ? `was inode ${f.oldIno}` : 'no owner']);
  const more = r.truncated ? ' (list truncated)' : '';
  const loose = [r.unowned ? `${r.unowned} without an owner` : '', r.superseded ? `${r.superseded} superseded` : ''].filter(Boolean).join(', ');
  const unreachable = r.serversUnreachable.length > 0 ? `; ${r.serversUnreachable.length} did not answer (${r.serversUnreachable.join(', ')})` : '';
  const summary = `metadata rebuild: ${r.files} files${more} (${formatBytes(r.bytes)}, ${r.chunks} chunks${loose ? `; ${loose}` : ''}) into ${r.into} ` +
    `from ${r.servers.length} chunkservers${unreachable}; ${r.alreadyUsed} chunks already in use, ${r.skipped} of deleted files left alone`;
  return [...formatTable(rows), summary];
}

/** `metadata` holds the metadata commands; whichever registers first makes it. */
export function metadataCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'metadata') ??
    program.command('metadata').description("the master's metadata: rebuild it from the chunkservers");
}

export function registerMetadataRebuild(program: Command, io: CliIo): void {
  metadataCommand(program).command('rebuild')
    .description('recreate lost files from the chunks the chunkservers hold, under a lost+found directory')
    .option('--into <dir>', 'directory to recreate the files under', '/lost+found')
    .option('--force', 'go on although some registered chunkserver is not alive (its chunks are not recovered now)')
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { into: string; force?: boolean; json?: boolean }) => {
      const res = await adminCall(program, io, AdminMethods.RebuildMetadata, { into: opts.into, force: !!opts.force }, REBUILD_TIMEOUT_MS);
      const r = fst.RebuildMetadataResponse.toObject(res, { longs: Number, defaults: true }) as RebuildJson;
      if (opts.json) printJson(io, r);
      else for (const line of formatRebuild(r)) io.stdout.write(line + '\n');
    });
}
