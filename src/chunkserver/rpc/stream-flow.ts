/**
 * Flow control for gRPC streams. Writers wait for 'drain' when write() returns false, so a slow
 * reader never makes the daemon buffer a whole chunk; readers consume with `for await`, so a slow
 * disk slows the sender. Both give up as soon as the call is cancelled: a stream that will never
 * drain or end must not hold a handler forever.
 */
import type { Writable } from 'node:stream';
import { FsError } from '../../common/errors/errno.js';
import { errnoOfServiceError, fsErrorToStatus, isServiceError } from '../../common/errors/rpc-status.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';

const cancelled = (signal: AbortSignal): unknown =>
  signal.reason instanceof FsError ? signal.reason : new FsError('EINTR', 'call cancelled');

/** Resolves when `stream` drains; rejects when it closes or errors first, or `signal` aborts. */
export function waitDrain(stream: Writable, signal: AbortSignal, failed?: Promise<never>): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown): void => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', done);
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new FsError('EIO', String(err)));
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new FsError('EIO', 'stream closed before it drained'));
    const onAbort = (): void => done(cancelled(signal));
    if (signal.aborted) return onAbort();
    stream.once('drain', onDrain);
    stream.once('close', onClose);
    stream.once('error', done);
    signal.addEventListener('abort', onAbort, { once: true });
    failed?.catch(done);
  });
}

/**
 * The messages of an incoming stream, ending with an error when `signal` aborts, or (with
 * `idleMs`) when the sender sends nothing for that long (ETIMEDOUT).
 */
export async function* messagesOf<T>(stream: AsyncIterable<T>, signal: AbortSignal, idleMs?: number): AsyncGenerator<T> {
  const it = stream[Symbol.asyncIterator]();
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelled(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = idleMs === undefined ? undefined : new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FsError('ETIMEDOUT', `no message for ${idleMs} ms: stream ended`)), idleMs);
      });
      try {
        const r = await Promise.race(idle ? [it.next(), aborted, idle] : [it.next(), aborted]);
        if (r.done) return;
        yield r.value;
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Ends a server stream with the error's status and errno trailer. grpc-js sends a server stream's
 * status only from its 'error' listener; a destroyed stream sends nothing and leaves the client
 * waiting for its deadline (the generic wrapper in common/rpc/server.ts once did that). Failing
 * here keeps ReadChunk's errors right whatever the wrapper does with a rejected handler.
 */
export function failServerStream(call: Writable, e: unknown, log: Logger, method: string): void {
  const err = isServiceError(e)
    ? new FsError(errnoOfServiceError(e), e.details || e.message)
    : toFsError(e, (u) => log.error('unexpected error in handler', { method, err: u }));
  const status = fsErrorToStatus(err);
  call.emit('error', Object.assign(new Error(status.details), status));
}
