/**
 * The state machine every daemon goes through, with illegal transitions refused, a `closed()`
 * promise that resolves with the reason, and one place that installs signal handlers.
 */
import type { Logger } from '../log/logger.js';

export type ServiceState = 'initial' | 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

const allowed: Record<ServiceState, ServiceState[]> = {
  initial: ['starting', 'stopped'],
  starting: ['running', 'failed', 'draining'],
  running: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

export class IllegalStateTransition extends Error {
  override readonly name = 'IllegalStateTransition';
  constructor(readonly from: ServiceState, readonly to: ServiceState) {
    super(`illegal service state transition ${from} -> ${to}`);
  }
}

export type CloseReason = { kind: 'stopped'; signal?: string } | { kind: 'failed'; error: unknown };

/** Tracks a daemon's state; `stop` runs the daemon's ordered shutdown once. */
export class ServiceLifecycle {
  private current: ServiceState = 'initial';
  private resolveClosed!: (r: CloseReason) => void;
  private readonly closedPromise = new Promise<CloseReason>((r) => (this.resolveClosed = r));
  private stopping: Promise<void> | undefined;

  constructor(private readonly name: string, private readonly log: Logger) {}

  get state(): ServiceState {
    return this.current;
  }

  transition(to: ServiceState): void {
    if (!allowed[this.current].includes(to)) throw new IllegalStateTransition(this.current, to);
    this.log.debug('state', { service: this.name, from: this.current, to });
    this.current = to;
  }

  /** Resolves once the daemon has stopped or failed, with why. */
  closed(): Promise<CloseReason> {
    return this.closedPromise;
  }

  /** Drains with `shutdown` (once; later calls wait for the first), then marks stopped. */
  stop(shutdown: () => Promise<void>, signal?: string): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.current === 'initial') {
      this.transition('stopped');
      this.resolveClosed({ kind: 'stopped', signal });
      return (this.stopping = Promise.resolve());
    }
    this.transition('draining');
    this.stopping = shutdown().then(
      () => {
        this.transition('stopped');
        this.resolveClosed({ kind: 'stopped', signal });
      },
      (error: unknown) => {
        this.current = 'failed';
        this.resolveClosed({ kind: 'failed', error });
      },
    );
    return this.stopping;
  }

  fail(error: unknown): void {
    if (this.current === 'stopped' || this.current === 'failed') return;
    this.current = 'failed';
    this.resolveClosed({ kind: 'failed', error });
  }
}

/**
 * Installs SIGINT/SIGTERM handlers that call `stop` once; a second signal exits at once. The only
 * place in FST that touches process signals.
 */
export function installSignalHandlers(stop: (signal: string) => Promise<void>, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(130);
    }
    stopping = true;
    log.info('stopping', { signal });
    stop(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
