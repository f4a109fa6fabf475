/**
 * fstadmin goal get|set: replication goals per file or tree (MooseFS's mfsgetgoal/mfssetgoal).
 *
 *   fstadmin goal get PATH [-r] [--json]     the path's goal; -r: how many files/directories per goal
 *   fstadmin goal set PATH N [-r]            N copies of every chunk of PATH (and, -r, of its tree);
 *                                            a directory's goal is what new entries in it inherit
 */
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import { usageError } from '../../cli/errors.js';
import type { CliIo } from '../../cli/program.js';
import { adminCall, printJson } from '../admin-rpc.js';

/** A goal set over a big tree touches every inode in one transaction. */
const TREE_TIMEOUT_MS = 10 * 60_000;

function parseGoal(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 16) throw usageError(`invalid goal '${v}' (a number of copies, 1 to 16)`);
  return n;
}

export function registerGoal(program: Command, io: CliIo): void {
  const goal = program.command('goal').description('replication goal (number of copies) per file or tree');

  goal.command('get')
    .description("show a path's goal (-r: the goals found in its tree)")
    .argument('<path>', 'absolute path in the cluster')
    .option('-r, --recursive', 'summarise the whole tree')
    .option('--json', 'print the answer as JSON')
    .action(async (path: string, opts: { recursive?: boolean; json?: boolean }) => {
      const res = await adminCall(program, io, AdminMethods.GetGoal, { path, recursive: !!opts.recursive }, TREE_TIMEOUT_MS);
      if (opts.json) return printJson(io, fst.GetGoalResponse.toObject(res, { longs: Number, defaults: true }));
      io.stdout.write(`${path}: ${res.goal}${res.directory ? ' (directory: new entries inherit it)' : ''}\n`);
      for (const t of res.tree) {
        io.stdout.write(` goal ${t.goal}: ${Number(t.files)} files, ${Number(t.directories)} directories\n`);
      }
    });

  goal.command('set')
    .description('set the goal of a path (-r: of every file and directory in its tree)')
    .argument('<path>', 'absolute path in the cluster')
    .argument('<n>', 'copies of every chunk (1 to 16)')
    .option('-r, --recursive', 'the whole tree')
    .option('--json', 'print the answer as JSON')
    .action(async (path: string, n: string, opts: { recursive?: boolean; json?: boolean }) => {
      const goalN = parseGoal(n);
      const res = await adminCall(program, io, AdminMethods.SetGoal, { path, goal: goalN, recursive: !!opts.recursive }, TREE_TIMEOUT_MS);
      if (opts.json) return printJson(io, fst.SetGoalResponse.toObject(res, { longs: Number, defaults: true }));
      io.stdout.write(`${path}: goal ${goalN} (${Number(res.changed)} changed, ${Number(res.unchanged)} unchanged)\n`);
      if (goalN > res.placeableServers) {
        io.stderr.write(`fstadmin: warning: only ${res.placeableServers} chunkservers are in service; chunks stay below goal ${goalN} until more join\n`);
      }
    });
}
