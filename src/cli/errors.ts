/**
 * How FST's command-line tools fail: one line on stderr, `<prog>: <what>: <strerror> (<ERRNO>)`,
 * and an exit status of 1 for operational errors or 2 for usage errors. Never a stack trace, except
 * with FST_DEBUG=1 for errors that are bugs.
 */
import { CommanderError } from 'commander';
import { FsError, describeErrno, type ErrnoName } from '../common/errors/errno.js';
import { toErrno } from '../common/errors/to-errno.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure to report: what it concerns (a path, "master host:port", an option) and its errno. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly what: string,
    readonly code: ErrnoName,
    readonly exitCode: number = EXIT_FAILURE,
    options?: { cause?: unknown },
  ) {
    super(`${what}: ${describeErrno(code)} (${code})`, options);
  }
}

/** A usage error (bad flag, missing argument, no master address): exit status 2. */
export function usageError(what: string, code: ErrnoName = 'EINVAL'): CliError {
  return new CliError(what, code, EXIT_USAGE);
}

/** Runs `fn`, reporting any failure as concerning `what` (the errno is kept). */
export async function about<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(what, toErrno(e), EXIT_FAILURE, { cause: e });
  }
}

/** The one line printed for `e`, and the exit status. */
export function describeFailure(prog: string, e: unknown, env: NodeJS.ProcessEnv): { line: string; exitCode: number; stack?: string } {
  if (e instanceof CliError) return { line: `${prog}: ${e.message}`, exitCode: e.exitCode };
  if (e instanceof CommanderError) {
    // Commander's messages start with "error: "; the errno form carries that already.
    const what = e.message.replace(/^error:\s*/, '').replace(/\n[\s\S]*$/, '');
    return { line: `${prog}: ${what}: ${describeErrno('EINVAL')} (EINVAL)`, exitCode: EXIT_USAGE };
  }
  if (e instanceof FsError) return { line: `${prog}: ${e.message}: ${describeErrno(e.code)} (${e.code})`, exitCode: EXIT_FAILURE };
  const code = toErrno(e);
  const message = e instanceof Error ? e.message : String(e);
  const out: { line: string; exitCode: number; stack?: string } = {
    line: `${prog}: ${message}: ${describeErrno(code)} (${code})`,
    exitCode: EXIT_FAILURE,
  };
  if (env.FST_DEBUG && e instanceof Error && e.stack) out.stack = e.stack;
  return out;
}
