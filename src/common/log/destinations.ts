/**
 * Where log lines go: stderr written synchronously (shared by every logger of the process), a
 * caller's line callback (tests capture lines this way), or nowhere.
 */
import { pino } from 'pino';

/** What pino writes to: one call per record, the JSON text followed by a newline. */
export interface LineDestination {
  write(chunk: string): void;
}

let stderrDestination: LineDestination | undefined;

/**
 * Synchronous writes to fd 2: a daemon that logs "start failed" and then calls process.exit must
 * not lose the line, which an asynchronous (buffered) destination would. One instance per process,
 * created on first use, so that loggers do not each hold their own buffer on the same fd.
 */
export function stderrLines(): LineDestination {
  stderrDestination ??= pino.destination({ dest: 2, sync: true });
  return stderrDestination;
}

/** Hands each record to `out` as one line without its trailing newline. */
export function callbackLines(out: (line: string) => void): LineDestination {
  return { write: (chunk) => out(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) };
}

/** Discards everything (the silent logger never opens stderr). */
export const discardLines: LineDestination = { write: () => {} };
