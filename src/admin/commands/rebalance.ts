/**
 * fstadmin rebalance: move replicas until every chunkserver's use is within a threshold of the mean.
 *
 *   fstadmin rebalance [--threshold PCT] [--rate-mib N]   start (or resume) and follow with a
 *                                                         progress bar until balanced
 *   fstadmin rebalance --detach                           start and return; the master goes on
 *   fstadmin rebalance --stop                             stop the job
 *
 * The job runs in the master, is recorded, and resumes after a master restart. Interrupting the
 * command (Ctrl-C) stops the job; running the command again resumes it from where the cluster
 * stands. A move copies before it deletes, so no chunk goes below its goal at any point.
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { type fst } from '../../proto-gen/fst.js';
import { CliError, usageError } from '../../cli/errors.js';
import type { CliIo } from '../../cli/program.js';
import { startProgress } from '../../cli/progress.js';
import { adminCall, printJson } from '../admin-rpc.js';
import { describeRebalance, rebalanceToJson, type Rebalance } from '../rebalance-format.js';
import { fetchStatus } from './status.js';

const POLL_MS = 1_000;

function parseThreshold(v: string): number {
  const n = Number(v.replace(/%$/, ''));
  if (!Number.isFinite(n) || n <= 0 || n >= 100) throw usageError(`invalid threshold '${v}' (a percentage of the mean, e.g. 10)`);
  return n / 100;
}

function parseRate(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`invalid rate '${v}' (MiB per second)`);
  return Math.round(n * 1024 * 1024);
}

/** Follows the job until balanced; Ctrl-C stops it. */
async function follow(program: Command, io: CliIo, first: Rebalance): Promise<Rebalance> {
  const bar = startProgress(io, 'rebalance', first.bytesMoved + first.bytesToMove);
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onSigint);
  try {
    let r = first;
    for (;;) {
      if (interrupted) {
        const stopped = rebalanceToJson((await adminCall(program, io, AdminMethods.StopRebalance, {})).rebalance);
        bar.stop();
        io.stderr.write(`fstadmin: interrupted; ${describeRebalance(stopped)}; run fstadmin rebalance again to resume\n`);
        throw new CliError('rebalance', 'EINTR', 130);
      }
      bar.setTotal(r.bytesMoved + r.bytesToMove);
      bar.update(r.bytesMoved);
      if (r.state === 'balanced') return r;
      if (r.state === 'stuck') throw new CliError(`rebalance: no move can bring the servers closer (${describeRebalance(r)})`, 'EAGAIN');
      if (r.state !== 'running') throw new CliError('rebalance: stopped by another command', 'ECANCELED');
      await new Promise((res) => setTimeout(res, POLL_MS));
      r = rebalanceToJson((await fetchStatus(program, io, true)).rebalance as fst.IRebalanceProgress);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    bar.stop();
  }
}

export function registerRebalance(program: Command, io: CliIo): void {
  program.command('rebalance')
    .description("move replicas until every chunkserver's use is within a threshold of the mean")
    .option('--threshold <percent>', 'how far from the mean use a server may stay (default 10, or the last job\'s)')
    .option('--rate-mib <n>', 'most MiB per second to move (default: the master\'s re-replication rate, or the last job\'s)')
    .option('--detach', 'start the job and return (it runs in the master until balanced)')
    .option('--stop', 'stop the running job')
    .option('--json', 'print the job as JSON at the end')
    .action(async (opts: { threshold?: string; rateMib?: string; detach?: boolean; stop?: boolean; json?: boolean }) => {
      const print = (r: Rebalance): void => (opts.json ? printJson(io, r) : void io.stdout.write(describeRebalance(r) + '\n'));
      if (opts.stop) return print(rebalanceToJson((await adminCall(program, io, AdminMethods.StopRebalance, {})).rebalance));
      const threshold = opts.threshold === undefined ? 0 : parseThreshold(opts.threshold);
      const rateBytes = opts.rateMib === undefined ? 0 : parseRate(opts.rateMib);
      const started = rebalanceToJson((await adminCall(program, io, AdminMethods.StartRebalance, { threshold, rateBytes })).rebalance);
      if (opts.detach) return print(started);
      print(await follow(program, io, started));
    });
}
