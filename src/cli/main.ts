/**
 * fst: the FST file client.
 *
 *   fst [--master HOST:PORT] put LOCAL REMOTE | get REMOTE LOCAL | ls [-l] [PATH] | cat PATH
 *                            | rm [-r] PATH | mkdir [-p] PATH | stat PATH
 *
 * The master comes from --master or FST_MASTER. Failures print one line,
 * `fst: <what>: <strerror> (<ERRNO>)`, and exit 1 (operational) or 2 (usage). `main` resolves with
 * the exit status instead of exiting, so that tests can run it in-process with their own streams.
 */
import { cat } from './commands/cat.js';
import { get } from './commands/get.js';
import { ls } from './commands/ls.js';
import { put } from './commands/put.js';
import { mkdir, rm, stat } from './commands/simple.js';
import { createProgram, processIo, runProgram, withClient, type CliIo } from './program.js';

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram('fst', 'FST distributed filesystem client', io);

  program.command('put')
    .description('copy a local file into FST (durably, keeping its mode)')
    .argument('<local>', 'local file')
    .argument('<remote>', 'remote file or directory')
    .action((local: string, remote: string) => withClient(program, io, (c) => put(c, io, local, remote)));

  program.command('get')
    .description('copy a file out of FST ("-" writes it to stdout)')
    .argument('<remote>', 'remote file')
    .argument('<local>', 'local file or directory, or -')
    .action((remote: string, local: string) => withClient(program, io, (c) => get(c, io, remote, local)));

  program.command('ls')
    .description('list a directory, or show a file')
    .option('-l, --long', 'long listing: mode, links, uid, gid, size, mtime, name')
    .argument('[path]', 'remote path', '/')
    .action((path: string, opts: { long?: boolean }) => withClient(program, io, (c) => ls(c, io, path, opts.long ?? false)));

  program.command('cat')
    .description('write a file to stdout')
    .argument('<path>', 'remote file')
    .action((path: string) => withClient(program, io, (c) => cat(c, io, path)));

  program.command('rm')
    .description('remove a file or symlink; a directory with -r')
    .option('-r, --recursive', 'remove directories and their contents')
    .argument('<path>', 'remote path')
    .action((path: string, opts: { recursive?: boolean }) => withClient(program, io, (c) => rm(c, path, opts.recursive ?? false)));

  program.command('mkdir')
    .description('create a directory')
    .option('-p, --parents', 'create missing parents; an existing directory is fine')
    .argument('<path>', 'remote path')
    .action((path: string, opts: { parents?: boolean }) => withClient(program, io, (c) => mkdir(c, path, opts.parents ?? false)));

  program.command('stat')
    .description('show the attributes of a path (a symlink itself)')
    .argument('<path>', 'remote path')
    .action((path: string) => withClient(program, io, (c) => stat(c, io, path)));

  return runProgram(program, argv, io);
}
