/**
 * The client side of the unary call transport (wire-frame.ts): one TCP connection per daemon
 * address, made on first use and again after it breaks, carrying any number of calls at once.
 * A call fails the way a grpc-js call does (a ServiceError: a status code, details, and the errno
 * trailer when the daemon answered with an error), so that retry rules and errno conversion are
 * the same whatever carried the call: UNAVAILABLE when no connection could be made or it broke
 * with the call in flight, DEADLINE_EXCEEDED at the deadline, CANCELLED when the signal aborts.
 */
import { connect, type OnReadOpts, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { parseHostPort } from '../config/address.js';
import { errnoMetadata } from '../errors/rpc-status.js';
import { isErrnoName } from '../errors/errno.js';
import type { Credentials } from '../security/credentials-file.js';
import { ALPN_WIRE, clientTlsOptions, type ServerKind } from '../security/tls-options.js';
import { FrameSink } from './frame-sink.js';
import { FrameKind, PREFACE, frameHeader, parseFailure, requestFrame, type Frame } from './wire-frame.js';

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (e: ServiceError) => void;
  /** Date.now() past which the call fails with DEADLINE_EXCEEDED (Infinity: none). */
  deadline: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * How often calls past their deadline are looked for: one timer per connection instead of one
 * per call (deadlines are seconds long; a call fails at most this much after its own).
 */
const SWEEP_MS = 25;

export function callError(code: status, details: string, metadata = new Metadata()): ServiceError {
  return Object.assign(new Error(`${code} ${status[code] ?? ''}: ${details}`), { code, details, metadata });
}

/** Error codes of a TLS handshake refused (by either side): an alert, or a certificate check. */
const TLS_REFUSAL = /^ERR_SSL_|^ERR_TLS_|CERT|UNABLE_TO_VERIFY|ERR_FST_SERVER_ROLE/;

/**
 * Error codes of a connection lost, not refused: a daemon killed between accepting the TCP
 * connection and finishing the handshake resets it. Retried like any connection lost, else a
 * master restart would answer EACCES to the call that happened to reconnect at that moment.
 */
const CONNECTION_LOST = /^(ECONNRESET|EPIPE|ECONNABORTED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENETDOWN)$/;

/**
 * A connection's liveness check (clients of a list of masters): once calls have waited this long
 * with nothing heard from the server, a probe is sent (a call of a method no server has: any
 * answer, UNIMPLEMENTED included, proves the connection alive); nothing heard for `deadAfterMs`
 * fails every call UNAVAILABLE, so that it is retried at the next address. A connection not made
 * within `probeAfterMs` fails the same way. Without it, a server
 * cut off by the network (no reset, no FIN) holds calls until their deadlines.
 */
export interface ConnectionWatch {
  probeAfterMs: number;
  deadAfterMs: number;
}

const PROBE_METHOD = '/fst.Liveness/Probe';
const EMPTY = Buffer.alloc(0);

/** Call ids wrap at 2^32; an id still in flight is skipped. */
const MAX_ID = 0xffff_ffff;

class Connection {
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private sweeper: NodeJS.Timeout | undefined;
  closed = false;
  /** Date.now() of the last frame heard, or of the first call made after none was in flight. */
  private heardAt = Date.now();
  private probing = false;

  /** `socket` reads into `sink` (its `onread` option), which hands the frames to `receive`. */
  constructor(readonly socket: Socket, private readonly onClose: (c: Connection) => void, tlsPeer?: string, private readonly watch?: ConnectionWatch) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    // A TLS connection that fails between TCP and the end of its handshake failed on trust (the
    // server's certificate, or the server refusing ours): no retry will change that.
    let tcp = tlsPeer === undefined;
    let secured = tlsPeer === undefined;
    let tlsError: Error | undefined;
    let lostError: Error | undefined;
    socket.once('connect', () => (tcp = true));
    socket.once('secureConnect', () => (secured = true));
    socket.on('error', (e: Error) => {
      const code = String((e as NodeJS.ErrnoException).code);
      // With TLS 1.3 the server checks our certificate after our side of the handshake ended: its
      // refusal arrives as an alert once connected.
      if (tlsPeer !== undefined && TLS_REFUSAL.test(code)) tlsError ??= e;
      else if (tcp && !secured) {
        if (CONNECTION_LOST.test(code)) lostError ??= e;
        else tlsError ??= e;
      }
    });
    socket.once('close', () => {
      if (!tlsError && lostError) this.fail(status.UNAVAILABLE, `connection lost during the TLS handshake: ${lostError.message}`);
      else if (tlsError || (tcp && !secured)) {
        const why = tlsError ? tlsError.message : 'the server closed the connection during the handshake (it does not accept this credential)';
        this.fail(status.UNAUTHENTICATED, `TLS with ${tlsPeer ?? '?'} failed: ${why}`);
      } else this.fail(status.UNAVAILABLE, 'connection closed');
    });
    socket.write(PREFACE);
    socket.unref();
  }

  /** What the socket read into `sink`. */
  receive(sink: FrameSink, n: number): void {
    let frames: Frame[];
    try {
      frames = sink.received(n);
    } catch (e) {
      this.socket.destroy();
      this.fail(status.UNAVAILABLE, `malformed frame from the server: ${(e as Error).message}`);
      return;
    }
    if (this.watch && frames.length > 0) this.heardAt = Date.now();
    for (const f of frames) {
      const p = this.pending.get(f.id);
      if (!p) continue; // cancelled or timed out meanwhile
      this.settle(f.id, p);
      // An answer after the deadline counts as none, as with gRPC (the sweep is only so often).
      if (p.deadline < Date.now()) p.reject(callError(status.DEADLINE_EXCEEDED, 'deadline exceeded'));
      else if (f.kind === FrameKind.REPLY) p.resolve(f.body);
      else if (f.kind === FrameKind.FAILURE) {
        try {
          const fail = parseFailure(f.body);
          p.reject(callError(fail.code, fail.message, isErrnoName(fail.errno) ? errnoMetadata(fail.errno) : new Metadata()));
        } catch (e) {
          p.reject(callError(status.INTERNAL, `malformed failure frame: ${(e as Error).message}`));
        }
      } else p.reject(callError(status.INTERNAL, `unexpected frame kind ${f.kind}`));
    }
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (this.pending.size === 0) this.socket.unref();
  }

  /**
   * Fails the calls past their deadline (telling the server they are given up). The sweeper stops
   * at its first round with no call in flight, not at every answer: one call after another would
   * otherwise make and clear a timer each.
   */
  private sweep(): void {
    if (this.pending.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = Date.now();
    if (this.watch && this.checkLiveness(this.watch, now)) return;
    for (const [id, p] of this.pending) if (p.deadline <= now) this.giveUp(id, status.DEADLINE_EXCEEDED, 'deadline exceeded');
  }

  /** See ConnectionWatch; true when the connection was given up. */
  private checkLiveness(watch: ConnectionWatch, now: number): boolean {
    const silent = now - this.heardAt;
    // Not even connected (the host is cut off: SYNs go unanswered): no need to wait for a probe.
    if (this.socket.connecting && silent >= watch.probeAfterMs) {
      this.socket.destroy();
      this.fail(status.UNAVAILABLE, `could not connect within ${silent} ms`);
      return true;
    }
    if (silent >= watch.deadAfterMs) {
      this.socket.destroy();
      this.fail(status.UNAVAILABLE, `nothing heard from the server for ${silent} ms: connection presumed lost`);
      return true;
    }
    if (silent >= watch.probeAfterMs && !this.probing) {
      this.probing = true;
      this.call(PROBE_METHOD, EMPTY, watch.deadAfterMs, undefined).catch(() => undefined).finally(() => (this.probing = false));
    }
    return false;
  }

  private giveUp(id: number, code: status, details: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.settle(id, p);
    if (!this.socket.destroyed) this.socket.write(frameHeader(FrameKind.CANCEL, id, 0));
    p.reject(callError(code, details));
  }

  /** Every call in flight fails with `code` (the connection is gone). */
  fail(code: status, details: string): void {
    if (!this.closed) {
      this.closed = true;
      this.onClose(this);
    }
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const [id, p] of [...this.pending]) {
      this.settle(id, p);
      p.reject(callError(code, details));
    }
  }

  call(method: string, payload: Buffer | readonly Buffer[], timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (signal?.aborted) {
        reject(callError(status.CANCELLED, 'call aborted'));
        return;
      }
      let id = this.nextId;
      while (this.pending.has(id)) id = id >= MAX_ID ? 1 : id + 1;
      this.nextId = id >= MAX_ID ? 1 : id + 1;
      const onAbort = signal && ((): void => this.giveUp(id, status.CANCELLED, 'call aborted'));
      if (onAbort) signal.addEventListener('abort', onAbort, { once: true });
      const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
      if (this.pending.size === 0) {
        this.socket.ref();
        this.heardAt = Date.now();
      }
      if (!this.sweeper) {
        this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
        this.sweeper.unref();
      }
      this.pending.set(id, { resolve, reject, deadline, signal, onAbort });
      const frame = requestFrame(id, method, timeoutMs ?? 0, payload);
      if (frame.length === 1) this.socket.write(frame[0]!);
      else {
        this.socket.cork();
        for (const b of frame) this.socket.write(b);
        this.socket.uncork();
      }
    });
  }
}

export class WireChannel {
  private conn: Connection | undefined;
  private readonly host: string;
  private readonly port: number;
  private closed = false;

  /**
   * `tls`: this process's credential and the kind of server at `address`; undefined: plaintext.
   * `watch`: give up a connection the server stopped answering on (see ConnectionWatch).
   */
  constructor(readonly address: string, private readonly tls?: { credentials: Credentials; server: ServerKind }, private readonly watch?: ConnectionWatch) {
    const hp = parseHostPort(address);
    this.host = hp.host.replace(/^\[(.*)\]$/, '$1');
    this.port = hp.port;
  }

  private connection(): Connection {
    if (this.conn && !this.conn.closed) return this.conn;
    const tls = this.tls;
    const sink = new FrameSink();
    // The socket reads (and decrypts) straight into the sink's buffers: no Buffer per read, no
    // stream. Reads begin once connected, after `c` below exists.
    const onread: OnReadOpts = {
      buffer: () => sink.next(),
      callback: (n: number): boolean => {
        c.receive(sink, n);
        return true;
      },
    };
    // tls.connect takes onread as net.connect does (node's docs); @types/node lacks the field.
    const socket = tls
      ? connectTls({ host: this.host, port: this.port, onread, ...clientTlsOptions(tls.credentials, tls.server, ALPN_WIRE) } as ConnectionOptions)
      : connect({ host: this.host, port: this.port, onread });
    const c: Connection = new Connection(socket, (gone) => {
      if (this.conn === gone) this.conn = undefined;
    }, tls ? `${tls.server} ${this.address}` : undefined, this.watch);
    this.conn = c;
    return c;
  }

  /** One call: the response's bytes, or a ServiceError. `payload` may come in parts, sent as they are. */
  call(method: string, payload: Buffer | readonly Buffer[], timeoutMs: number | undefined, signal?: AbortSignal): Promise<Buffer> {
    if (this.closed) return Promise.reject(callError(status.UNAVAILABLE, 'channel closed'));
    return this.connection().call(method, payload, timeoutMs, signal);
  }

  close(): void {
    this.closed = true;
    const c = this.conn;
    this.conn = undefined;
    if (c) {
      c.fail(status.CANCELLED, 'channel closed');
      c.socket.destroy();
    }
  }
}
