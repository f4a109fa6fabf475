/**
 * fstadmin fsck [--repair] [--json]: checks the master's chunk map against what every live
 * chunkserver holds on disk now (AdminService.Fsck; docs/OPERATIONS.md says what is checked and
 * what --repair does for each kind of problem).
 *
 * Human output: one line per problem,
 *   KIND  chunk ID vVERSION  server ADDRESS  PATH  detail  [repaired]
 * ("-" for a server or path that does not apply), then one summary line: chunks and servers
 * checked, servers that did not answer, problems by kind, how many were repaired.
 *
 * --json prints the response as protobufjs's toObject gives it with {longs: Number, defaults: true}:
 *   { "chunksChecked": 0, "serversChecked": 0, "serversUnreachable": ["host:port"],
 *     "problems": [{ "kind": "lost-replica", "chunkId": 0, "version": 0, "serverId": 0, "server": "",
 *                    "ino": 0, "path": "", "index": 0, "detail": "", "repaired": false }],
 *     "truncated": false, "repaired": 0, "chunksBusy": 0 }
 *
 * Exit status (fsck(8)'s, simplified): 0 when every problem found was repaired (or none was found)
 * and every live server was checked; 1 when a problem remains, the list was truncated, or a live
 * server did not answer (its replicas were not checked); 2 for a usage error.
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import { CliError, EXIT_FAILURE } from '../../cli/errors.js';
import { formatTable } from '../../cli/format.js';
import type { CliIo } from '../../cli/program.js';
import { adminCall, printJson } from '../admin-rpc.js';

/** fsck lists every chunk of every server and reads the whole chunk map: minutes on big clusters. */
const FSCK_TIMEOUT_MS = 60 * 60_000;

interface Problem {
  kind: string;
  chunkId: number;
  version: number;
  server: string;
  path: string;
  detail: string;
  repaired: boolean;
}

interface FsckJson {
  chunksChecked: number;
  serversChecked: number;
  serversUnreachable: string[];
  problems: Problem[];
  truncated: boolean;
  repaired: number;
  chunksBusy: number;
}

/** The human form of an answer, as lines. */
export function formatFsck(r: FsckJson): string[] {
  const rows = r.problems.map((p) => [
    p.kind, `chunk ${p.chunkId} v${p.version}`, `server ${p.server || '-'}`, p.path || '-', p.repaired ? `${p.detail}  [repaired]` : p.detail,
  ]);
  const byKind = new Map<string, number>();
  for (const p of r.problems) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1);
  const kinds = [...byKind].map(([k, n]) => `${n} ${k}`).join(', ');
  const busy = r.chunksBusy > 0 ? ` (${r.chunksBusy} being written, not judged)` : '';
  const unreachable = r.serversUnreachable.length > 0 ? `, ${r.serversUnreachable.length} unreachable (${r.serversUnreachable.join(', ')})` : '';
  const problems = r.problems.length === 0 ? 'no problem' : `${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}${r.truncated ? ' (list truncated)' : ''}: ${kinds}`;
  const summary = `fsck: ${r.chunksChecked} chunks checked${busy} on ${r.serversChecked} servers${unreachable}; ${problems}; ${r.repaired} repaired`;
  return [...formatTable(rows), summary];
}

/** Why the exit status is 1, or undefined when it is 0. */
export function fsckFailure(r: FsckJson): string | undefined {
  const left = r.problems.filter((p) => !p.repaired).length;
  if (left > 0) return `${left} problem${left === 1 ? '' : 's'} left unrepaired`;
  if (r.truncated) return 'more problems than listed (run it again)';
  if (r.serversUnreachable.length > 0) return `${r.serversUnreachable.length} live chunkserver(s) not checked`;
  return undefined;
}

export function registerFsck(program: Command, io: CliIo): void {
  program.command('fsck')
    .description("check the chunk map against the chunkservers' disks (missing, under-replicated, lost, orphaned...)")
    .option('--repair', 'repair what can be repaired (forget lost replicas, copy, record, trim, delete stale copies and orphans)')
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { repair?: boolean; json?: boolean }) => {
      const res = await adminCall(program, io, AdminMethods.Fsck, { repair: !!opts.repair }, FSCK_TIMEOUT_MS);
      const r = fst.FsckResponse.toObject(res, { longs: Number, defaults: true }) as FsckJson;
      if (opts.json) printJson(io, r);
      else for (const line of formatFsck(r)) io.stdout.write(line + '\n');
      const failure = fsckFailure(r);
      if (failure) throw new CliError(`fsck: ${failure}`, 'EIO', EXIT_FAILURE);
    });
}
