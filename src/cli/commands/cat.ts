/**
 * fst cat PATH: writes a file to stdout, honouring the pipe's backpressure. A reader that goes
 * away (`fst cat f | head`) ends the copy quietly, as cat(1) does.
 */
import type { FstClient } from '../../client/fst-client.js';
import { toErrno } from '../../common/errors/to-errno.js';
import { about, CliError } from '../errors.js';
import type { CliIo } from '../program.js';
import { remotePath, remotePieces } from '../transfer.js';

export async function cat(client: FstClient, io: CliIo, path: string): Promise<void> {
  const source = remotePath(path);
  const out = io.stdout;
  let broken: unknown;
  const onError = (e: unknown): void => {
    broken ??= e;
  };
  out.on('error', onError);
  const h = await about(source, () => client.open(source, { read: true }));
  try {
    const pieces = remotePieces(h);
    for (;;) {
      const next = await about(source, () => pieces.next());
      if (next.done) break;
      const flushed = out.write(next.value);
      if (!flushed && !broken) {
        await new Promise<void>((resolve) => {
          out.once('drain', resolve);
          out.once('error', () => resolve());
        });
      }
      if (broken) {
        await pieces.return(undefined);
        break;
      }
    }
  } finally {
    await h.close();
  }
  if (broken && (broken as { code?: unknown }).code !== 'EPIPE') throw new CliError('stdout', toErrno(broken));
}
