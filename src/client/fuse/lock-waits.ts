/**
 * Lock requests that wait (F_SETLKW, flock without LOCK_NB), by FUSE request, so that the kernel's
 * INTERRUPT (the caller got a signal it handles, e.g. flock -w's alarm) stops the wait: the request
 * is then answered EINTR, as a local lock wait returns. The binding registers for the interrupt
 * before the request reaches JavaScript, so an interrupt may come first: it is kept for the request,
 * which starts at once after it (the same C call), and aborts as soon as it starts.
 */
export class LockWaits {
  private readonly waiting = new Map<number, AbortController>();
  /** Interrupts of requests not started yet. */
  private readonly early = new Set<number>();

  /** A waiting lock request starts: the signal aborts when the kernel interrupts it. */
  start(req: number): AbortSignal {
    const ac = new AbortController();
    if (this.early.delete(req)) ac.abort();
    else this.waiting.set(req, ac);
    return ac.signal;
  }

  end(req: number): void {
    this.waiting.delete(req);
  }

  interrupt(req: number): void {
    const ac = this.waiting.get(req);
    if (ac) ac.abort();
    else if (this.early.size < 1024) this.early.add(req);
  }
}
