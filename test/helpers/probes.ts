/** Small probes shared by tests: the errno a promise fails with, a loopback port nobody serves. */
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
