/**
 * Waits `ms`, or less if `signal` aborts first: the pause of a background loop (heartbeat backoff,
 * scrubbing between passes) that must end promptly when its daemon stops. Never rejects; the loop
 * checks the signal itself.
 */
export function rest(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
