/**
 * fstadmin df / du: space.
 *
 *   fstadmin df [--json]         capacity, used and free per chunkserver and in total, and the bytes
 *                                files hold (logical) against what their replicas take
 *   fstadmin du PATH [--json]    files, directories, logical bytes and replicated bytes of a tree
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import { formatBytes, formatTable } from '../../cli/format.js';
import type { CliIo } from '../../cli/program.js';
import { adminCall, printJson } from '../admin-rpc.js';
import { fetchStatus, type ServerRow } from './status.js';


const percent = (part: number, whole: number): string => (whole > 0 ? `${Math.round((100 * part) / whole)}%` : '-');

export function registerSpace(program: Command, io: CliIo): void {
  program.command('df')
    .description('space per chunkserver and in total')
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { json?: boolean }) => {
      const s = await fetchStatus(program, io);
      const servers = s.servers as ServerRow[];
      const totals = { capacityBytes: s.capacityBytes as number, usedBytes: s.usedBytes as number, freeBytes: s.freeBytes as number, logicalBytes: s.logicalBytes as number };
      if (opts.json) {
        return printJson(io, {
          servers: servers.map((x) => ({ address: x.address, state: x.state, decommission: x.decommission, capacityBytes: x.capacityBytes, usedBytes: x.usedBytes, freeBytes: x.freeBytes })),
          ...totals,
        });
      }
      const rows = [
        ['CHUNKSERVER', 'SIZE', 'USED', 'AVAIL', 'USE%', 'STATE'],
        ...servers.map((x) => [x.address, formatBytes(x.capacityBytes), formatBytes(x.usedBytes), formatBytes(x.freeBytes),
          percent(x.usedBytes, x.capacityBytes), x.decommission ? `${x.state}, ${x.decommission}` : x.state]),
        ['total (live)', formatBytes(totals.capacityBytes), formatBytes(totals.usedBytes), formatBytes(totals.freeBytes), percent(totals.usedBytes, totals.capacityBytes), ''],
      ];
      io.stdout.write(formatTable(rows, new Set([1, 2, 3, 4])).join('\n') + '\n');
      io.stdout.write(`files hold ${formatBytes(totals.logicalBytes)}; their replicas take ${formatBytes(totals.usedBytes)}\n`);
    });

  program.command('du')
    .description('what a tree holds: files, directories, bytes, and bytes with their replicas')
    .argument('<path>', 'absolute path in the cluster')
    .option('--json', 'print the answer as JSON')
    .action(async (path: string, opts: { json?: boolean }) => {
      const res = await adminCall(program, io, AdminMethods.DiskUsage, { path }, 10 * 60_000);
      const obj = fst.DiskUsageResponse.toObject(res, { longs: Number, defaults: true }) as { files: number; directories: number; logicalBytes: number; storedBytes: number; chunks: number };
      if (opts.json) return printJson(io, { path, ...obj });
      io.stdout.write(`${formatBytes(obj.logicalBytes)}\t${formatBytes(obj.storedBytes)} stored\t${obj.files} files\t${obj.directories} directories\t${obj.chunks} chunks\t${path}\n`);
    });
}
