/** Small probes shared by tests: the errno a promise fails with, a loopback port nobody serves, waiting. */
import { createServer } from 'node:net';
import { FsError } from '../../src/common/errors/errno.js';

/** The errno name `p` rejects with ('no error' if it resolves, a description if it is no FsError). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof FsError ? e.code : `not an FsError: ${String(e)}`;
  }
  return 'no error';
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** How long waitFor waits unless told otherwise: generous, for a machine whose cores are busy. */
export const WAIT_MS = 60_000;

/**
 * The one way tests wait: polls `fn` every `everyMs` until it returns something other than
 * undefined or false, and resolves with that. A thrown error counts as "not yet"; the last one is
 * in the message of the timeout, so a condition can throw to say what it saw. Never sleep a fixed
 * time and then assert what must have happened by then: wait for it with a generous deadline.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = WAIT_MS,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last === undefined ? '' : ` (last: ${last instanceof Error ? last.message : String(last)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Waits until `ms` have passed since `since` (Date.now()): for a test whose precondition is age
 * itself (caches past their TTL), which a busy machine only makes truer. Nothing that must happen
 * meanwhile may be assumed: wait for that with `waitFor`.
 */
export async function olderThan(since: number, ms: number, what: string): Promise<void> {
  await waitFor(what, () => Date.now() - since > ms, ms + WAIT_MS, 50);
}
