/**
 * fstadmin gc: runs chunk garbage collection now (deleted files' replicas are removed from live
 * servers) instead of waiting for the master's background pass.
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import type { CliIo } from '../../cli/program.js';
import { adminCall, printJson } from '../admin-rpc.js';

export function registerGc(program: Command, io: CliIo): void {
  program.command('gc')
    .description("delete deleted files' chunks from the chunkservers now")
    .option('--json', 'print the answer as JSON')
    .action(async (opts: { json?: boolean }) => {
      const res = await adminCall(program, io, AdminMethods.CollectGarbage, {}, 10 * 60_000);
      if (opts.json) return printJson(io, fst.CollectGarbageResponse.toObject(res, { longs: Number, defaults: true }));
      io.stdout.write(`gc: ${Number(res.chunksForgotten)} deleted chunks removed from every server; ` +
        `${Number(res.chunksPending)} still wait for servers that are down\n`);
    });
}
