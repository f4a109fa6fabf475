/**
 * The server side of the unary call transport (wire-frame.ts): serves the calls arriving on one
 * connection, many at a time, each through the same invoker as its gRPC twin (addService in
 * server.ts: metrics, the errno trailer, no throw ever reaching the connection). A malformed frame
 * closes the connection; a request that does not decode is answered INVALID_ARGUMENT.
 *
 * A stopping daemon drains each connection (`drain`): the calls in flight are answered, new ones
 * refused with UNAVAILABLE (never run, so the caller retries them elsewhere). A call dropped
 * with its connection instead might have taken effect unseen, and the caller's retry would then
 * apply it twice (a mkdir answered EEXIST by the restarted master).
 */
import type { Socket } from 'node:net';
import { status, type Metadata } from '@grpc/grpc-js';
import { FsError } from '../errors/errno.js';
import { ERRNO_TRAILER, errnoMetadata } from '../errors/rpc-status.js';
import type { Logger } from '../log/logger.js';
import type { Principal } from '../security/principal.js';
import { FrameKind, FrameReader, failureBody, frameBuffers, parseRequest, type FrameKindValue } from './wire-frame.js';

/**
 * Most calls one connection may have in flight; more are answered RESOURCE_EXHAUSTED at once (a
 * mount keeps a few dozen; each call in flight holds memory and maybe a long wait).
 */
export const MAX_CALLS_IN_FLIGHT = 1024;

/** Room in a request frame for its header and method path besides the message. */
const FRAME_OVERHEAD_BYTES = 64 * 1024;

/** What a call handler knows about its call besides the request. */
export interface CallContext {
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  readonly peer: string;
  /**
   * Who calls, from the connection's TLS certificate (INSECURE_PRINCIPAL on a daemon started
   * insecure); undefined for a plaintext connection to a daemon that requires TLS.
   */
  readonly principal: Principal | undefined;
}

/** A failure as addService hands it over: a status with the errno trailer. */
export interface CallFailure {
  code: status;
  details: string;
  metadata?: Metadata;
}

/** One unary method: its codec and its invoker (which rejects only with a CallFailure). */
export interface WireMethod {
  deserializeRequest(bytes: Buffer): unknown;
  serializeResponse(value: unknown): Buffer;
  invoke(request: unknown, ctx: CallContext): Promise<unknown>;
}

function send(socket: Socket, kind: FrameKindValue, id: number, body: Buffer): void {
  if (socket.destroyed || !socket.writable) return;
  const frame = frameBuffers(kind, id, body);
  if (frame.length === 1) {
    socket.write(frame[0]!);
    return;
  }
  socket.cork();
  for (const b of frame) socket.write(b);
  socket.uncork();
}

/**
 * A call's context, its signal made only if the handler asks for it (most never do): an
 * AbortController and a deadline timer per call would cost more than many handlers.
 */
class WireCall implements CallContext {
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Why it ended early, before anyone asked for the signal. */
  private reason: FsError | undefined;

  constructor(
    readonly peer: string,
    readonly principal: Principal | undefined,
    private readonly method: string,
    /** Date.now() at which the caller stops waiting (0: never). */
    private readonly deadline: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      const left = this.deadline - Date.now();
      if (this.reason) this.controller.abort(this.reason);
      else if (this.deadline > 0 && left <= 0) this.controller.abort(this.expired());
      else if (this.deadline > 0) {
        this.timer = setTimeout(() => this.controller?.abort(this.expired()), left);
        this.timer.unref();
      }
    }
    return this.controller.signal;
  }

  private expired(): FsError {
    return new FsError('ETIMEDOUT', `${this.method}: deadline passed`);
  }

  /** The caller cancelled or went away. */
  abort(reason: FsError): void {
    this.reason ??= reason;
    this.controller?.abort(reason);
  }

  done(): void {
    clearTimeout(this.timer);
  }
}

function sendFailure(socket: Socket, id: number, f: CallFailure): void {
  const errno = f.metadata?.get(ERRNO_TRAILER)[0];
  send(socket, FrameKind.FAILURE, id, failureBody({ code: f.code, errno: typeof errno === 'string' ? errno : '', message: f.details }));
}

/** A connection being served. */
export interface WireConnection {
  /** Refuses new calls (UNAVAILABLE); resolves once every call in flight was answered or the connection closed. */
  drain(): Promise<void>;
}

const STOPPING: CallFailure = { code: status.UNAVAILABLE, details: 'the daemon is stopping: call again' };

/** Serves the calls of `socket` (its preface already read; `rest` is what came after it). */
export function serveWireConnection(
  socket: Socket, rest: Buffer, methods: ReadonlyMap<string, WireMethod>, log: Logger, principal: Principal | undefined,
  /** Every call of this connection is answered with it (a plaintext caller of a daemon that needs TLS). */
  refusal?: CallFailure,
  /** The largest request taken: a bigger frame closes the connection. */
  maxRequestBytes?: number,
): WireConnection {
  const reader = new FrameReader(maxRequestBytes === undefined ? undefined : maxRequestBytes + FRAME_OVERHEAD_BYTES);
  const inFlight = new Map<number, WireCall>();
  const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
  socket.setNoDelay(true);
  /** Set by drain: resolves it once no call is in flight. */
  let drained: (() => void) | undefined;
  const settle = (): void => {
    if (drained && (inFlight.size === 0 || socket.destroyed)) drained();
  };

  const start = (id: number, body: Buffer): void => {
    let method: string;
    let timeoutMs: number;
    let payload: Buffer;
    try {
      ({ method, timeoutMs, payload } = parseRequest(body));
    } catch (e) {
      sendFailure(socket, id, { code: status.INVALID_ARGUMENT, details: `malformed request frame: ${(e as Error).message}` });
      return;
    }
    if (refusal) {
      sendFailure(socket, id, refusal);
      return;
    }
    if (drained) {
      sendFailure(socket, id, STOPPING);
      return;
    }
    if (inFlight.size >= MAX_CALLS_IN_FLIGHT) {
      sendFailure(socket, id, {
        code: status.RESOURCE_EXHAUSTED, metadata: errnoMetadata('EAGAIN'),
        details: `more than ${MAX_CALLS_IN_FLIGHT} calls in flight on this connection: wait for answers first`,
      });
      return;
    }
    const m = methods.get(method);
    if (!m) {
      sendFailure(socket, id, { code: status.UNIMPLEMENTED, details: `unknown method ${method}` });
      return;
    }
    let request: unknown;
    try {
      request = m.deserializeRequest(payload);
    } catch (e) {
      sendFailure(socket, id, { code: status.INVALID_ARGUMENT, details: `undecodable ${method} request: ${(e as Error).message}` });
      return;
    }
    // The caller stops waiting at its deadline; the handler is told then too, if it listens.
    const ac = new WireCall(peer, principal, method, timeoutMs > 0 ? Date.now() + timeoutMs : 0);
    inFlight.set(id, ac);
    m.invoke(request, ac).then(
      (res) => {
        if (inFlight.get(id) !== ac) return;
        let bytes: Buffer;
        try {
          bytes = m.serializeResponse(res);
        } catch (e) {
          log.error('unserializable response', { method, err: e });
          sendFailure(socket, id, { code: status.INTERNAL, details: `${method}: response could not be encoded` });
          return;
        }
        send(socket, FrameKind.REPLY, id, bytes);
      },
      (f: CallFailure) => {
        if (inFlight.get(id) === ac) sendFailure(socket, id, f);
      },
    ).finally(() => {
      ac.done();
      if (inFlight.get(id) === ac) inFlight.delete(id);
      settle();
    });
  };

  const onData = (chunk: Buffer): void => {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch (e) {
      log.warn('closing a connection that sent a malformed frame', { peer, err: e });
      socket.destroy();
      return;
    }
    for (const f of frames) {
      if (f.kind === FrameKind.REQUEST) start(f.id, f.body);
      else if (f.kind === FrameKind.CANCEL) {
        inFlight.get(f.id)?.abort(new FsError('EINTR', 'call cancelled by the caller'));
        inFlight.delete(f.id);
        settle();
      } else {
        log.warn('closing a connection that sent an unexpected frame', { peer, kind: f.kind });
        socket.destroy();
        return;
      }
    }
  };
  socket.on('data', onData);
  socket.on('error', () => undefined);
  socket.once('close', () => {
    for (const ac of inFlight.values()) ac.abort(new FsError('EINTR', 'the caller went away'));
    inFlight.clear();
    settle();
  });
  if (rest.length > 0) onData(rest);
  socket.resume();
  return {
    drain: () => new Promise<void>((resolve) => {
      drained = resolve;
      settle();
    }),
  };
}
