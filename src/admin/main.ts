/**
 * fstadmin: FST cluster administration.
 *
 *   fstadmin [--master HOST:PORT] status [--json]
 *
 * Same conventions as fst (src/cli/main.ts): master from --master or FST_MASTER, one-line errors,
 * exit 1 for operational errors and 2 for usage errors; `main` resolves with the exit status.
 */
import { createProgram, processIo, runProgram, type CliIo } from '../cli/program.js';
import { status } from './commands/status.js';

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram('fstadmin', 'FST cluster administration', io);

  program.command('status')
    .description('chunkservers, space, namespace counts and chunk health')
    .option('--json', 'print the raw status as JSON')
    .action((opts: { json?: boolean }) => status(program, io, opts.json ?? false));

  return runProgram(program, argv, io);
}
