/**
 * What every FST command-line tool shares: the streams it talks to (injectable, so tests run a
 * tool in-process), the commander configuration (errors reported by us, in errno form), the
 * `--master` option with its FST_MASTER fallback, and the run loop that turns any failure into one
 * line and an exit status.
 */
import { Command, CommanderError } from 'commander';
import { parseHostPortList } from '../common/config/address.js';
import { FstClient } from '../client/fst-client.js';
import { FsError } from '../common/errors/errno.js';
import { answeredErrno, isServiceError } from '../common/errors/rpc-status.js';
import { toErrno, toFsError } from '../common/errors/to-errno.js';
import { readCredentials, type Credentials } from '../common/security/credentials-file.js';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, describeFailure, usageError } from './errors.js';

/** The process's streams and environment, or a test's stand-ins. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** How long a tool waits for the master before giving up. */
export const MASTER_TIMEOUT_MS = 5000;

/** A commander program that reports errors through us instead of printing and exiting. */
export function createProgram(name: string, description: string, io: CliIo): Command {
  return new Command(name)
    .description(description)
    .option('--master <host:port>', 'master address (default: $FST_MASTER)')
    .option('--credentials <file>', 'credential file to present to the cluster (default: $FST_CREDENTIALS)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Our own one-line form replaces commander's error text (see errors.ts).
      outputError: () => {},
    });
}

/** The master address from --master or FST_MASTER; a usage error when neither is given or it is malformed. */
export function masterAddress(program: Command, io: CliIo): string {
  const given = (program.opts<{ master?: string }>().master ?? io.env.FST_MASTER ?? '').trim();
  if (!given) throw usageError('no master address (use --master HOST:PORT[,HOST:PORT...] or set FST_MASTER)');
  try {
    parseHostPortList(given, 'master address');
  } catch {
    throw usageError(`invalid master address '${given}' (expected HOST:PORT, or several separated by commas)`);
  }
  return given;
}

/**
 * The credential from --credentials or FST_CREDENTIALS, read; undefined when neither is given (a
 * plaintext connection, which only a master run --insecure accepts: others say so).
 */
export async function cliCredentials(program: Command, io: CliIo): Promise<Credentials | undefined> {
  const path = (program.opts<{ credentials?: string }>().credentials ?? io.env.FST_CREDENTIALS ?? '').trim();
  if (!path) return undefined;
  try {
    return await readCredentials(path);
  } catch (e) {
    throw new CliError((e as Error).message, toErrno(e), EXIT_FAILURE, { cause: e });
  }
}

/**
 * A failure of a call to the master as one line: no answer says so about the master; a refusal
 * keeps the master's own message (e.g. why a credential is refused).
 */
export function masterFailure(master: string, e: unknown): Error {
  const code = toErrno(e);
  if (answeredErrno(e) === undefined) return new CliError(`master ${master}`, code === 'EIO' ? 'ETIMEDOUT' : code, EXIT_FAILURE, { cause: e });
  const cause = (e as { cause?: unknown }).cause;
  const details = isServiceError(cause) ? cause.details : toFsError(e).message;
  return new FsError(code, details, { cause: e });
}

/** A connected client, or a CliError naming the master when it does not answer in time. */
export async function connectClient(program: Command, io: CliIo): Promise<FstClient> {
  const master = masterAddress(program, io);
  const credentials = await cliCredentials(program, io);
  const client = new FstClient({ master, connectTimeoutMs: MASTER_TIMEOUT_MS, retryForMs: MASTER_TIMEOUT_MS, credentials });
  try {
    await client.connect();
  } catch (e) {
    await client.close().catch(() => {});
    throw masterFailure(master, e);
  }
  return client;
}

/** Runs `client`-using work and closes the client however it ends (close errors count). */
export async function withClient<T>(program: Command, io: CliIo, fn: (client: FstClient) => Promise<T>): Promise<T> {
  const client = await connectClient(program, io);
  let result: T;
  try {
    result = await fn(client);
  } catch (e) {
    await client.close().catch(() => {});
    throw e;
  }
  await client.close();
  return result;
}

/** Parses `argv` (node, script, args...) and runs the chosen command; resolves with the exit status. */
export async function runProgram(program: Command, argv: string[], io: CliIo): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'node' });
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version')) return EXIT_OK;
    // No command given: commander has printed the help on stderr; that is a usage error.
    if (e instanceof CommanderError && e.code === 'commander.help') return EXIT_USAGE;
    const { line, exitCode, stack } = describeFailure(program.name(), e, io.env);
    io.stderr.write(line + '\n');
    if (stack) io.stderr.write(stack + '\n');
    return exitCode;
  }
}
