/**
 * fstadmin decommission / forget: taking a chunkserver out of the cluster while it keeps serving.
 *
 *   fstadmin decommission SERVER [--cancel] [--wait] [--json]
 *       SERVER (host:port or id, as status lists it) takes no new chunks; its chunks are copied to
 *       servers in service and then deleted from it. `status` says "drained" when none is left;
 *       --wait follows the drain until then. --cancel puts it back in service.
 *   fstadmin forget SERVER
 *       forgets a stopped server (refused while it holds copies some chunk still needs)
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import { CliError } from '../../cli/errors.js';
import type { CliIo } from '../../cli/program.js';
import { startProgress } from '../../cli/progress.js';
import { adminCall, printJson } from '../admin-rpc.js';
import { fetchStatus } from './status.js';

const POLL_MS = 1_000;

async function followDrain(program: Command, io: CliIo, address: string, initialChunks: number): Promise<void> {
  const bar = startProgress(io, `draining ${address}`, initialChunks, 'count');
  try {
    for (;;) {
      const servers = (await fetchStatus(program, io, true)).servers as { address: string; chunks: number; decommission: string }[];
      const s = servers.find((x) => x.address === address);
      if (!s) throw new CliError(`chunkserver ${address}`, 'ENOENT');
      bar.update(Math.max(0, initialChunks - s.chunks));
      if (s.decommission === 'drained') return;
      if (s.decommission !== 'draining') throw new CliError(`chunkserver ${address}: decommission cancelled`, 'ECANCELED');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    bar.stop();
  }
}

export function registerDecommission(program: Command, io: CliIo): void {
  program.command('decommission')
    .description('drain every chunk from a chunkserver so that it can be removed')
    .argument('<server>', 'host:port or id of the chunkserver')
    .option('--cancel', 'put the server back in service')
    .option('--wait', 'follow the drain until the server holds nothing')
    .option('--json', 'print the server as JSON')
    .action(async (server: string, opts: { cancel?: boolean; wait?: boolean; json?: boolean }) => {
      const res = await adminCall(program, io, AdminMethods.Decommission, { server, cancel: !!opts.cancel });
      const s = fst.ChunkserverStatus.toObject(fst.ChunkserverStatus.create(res.server ?? {}), { longs: Number, defaults: true }) as { address: string; chunks: number; decommission: string; state: string };
      if (opts.json) printJson(io, s);
      else if (opts.cancel) io.stdout.write(`${s.address}: back in service\n`);
      else io.stdout.write(`${s.address}: ${s.decommission || 'draining'}, ${s.chunks} replicas left; it can be stopped and removed once status says drained\n`);
      if (opts.wait && !opts.cancel) {
        await followDrain(program, io, s.address, s.chunks);
        if (!opts.json) io.stdout.write(`${s.address}: drained\n`);
      }
    });

  program.command('forget')
    .description('forget a stopped (decommissioned) chunkserver')
    .argument('<server>', 'host:port or id of the chunkserver')
    .action(async (server: string) => {
      await adminCall(program, io, AdminMethods.ForgetChunkserver, { server });
      io.stdout.write(`${server}: forgotten\n`);
    });
}
