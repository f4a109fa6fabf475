/**
 * FST's RPC server: gRPC services with FST's limits, and the wrapper that gives every handler the
 * same contract: handlers are async functions that throw FsError; the wrapper turns any failure
 * into a status with the errno trailer, logs what is not an FsError, and never lets a throw reach
 * the transport. It counts every call answered (RpcServer.callsAnswered) and, given
 * RpcServerMetrics, also counts and times them by method: the one place all RPCs pass.
 *
 * One port, two transports (listener below): unary calls come over FST's own framed transport
 * (wire-*.ts: a grpc-js unary call costs ten times the CPU of a plain TCP round trip on a small
 * machine, and the metadata path is made of small calls), streams over gRPC. The first bytes of a
 * connection tell them apart; gRPC connections are handed to grpc-js as they are.
 *
 * Given a credential, the server speaks only TLS (tls-options.ts: mutual, the cluster CA as trust
 * root, ALPN choosing the transport) and every call carries its caller's principal from the
 * certificate; a plaintext call is answered PERMISSION_DENIED with what to do, then dropped.
 * Without one (a daemon started `--insecure`), every caller is INSECURE_PRINCIPAL.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import {
  Server,
  ServerCredentials,
  type status,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
  type handleClientStreamingCall,
  type handleUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { parseHostPort } from '../config/address.js';
import type { Credentials } from '../security/credentials-file.js';
import { INSECURE_PRINCIPAL, type Principal } from '../security/principal.js';
import { ALPN_WIRE, principalOfCert, principalOfSocket, serverTlsOptions } from '../security/tls-options.js';
import { FsError } from '../errors/errno.js';
import { fsErrorToStatus, isServiceError, errnoMetadata, errnoOfServiceError, statusForErrno } from '../errors/rpc-status.js';
import { toFsError } from '../errors/to-errno.js';
import type { Logger } from '../log/logger.js';
import { OK } from '../metrics/op-recorder.js';
import { StreamOutcome, type RpcServerMetrics } from '../metrics/rpc-server-metrics.js';
import { toServiceDefinition, type AnyMethod, type MethodDescriptor } from './service-def.js';
import { PREFACE } from './wire-frame.js';
import { serveWireConnection, type CallContext, type CallFailure, type WireConnection, type WireMethod } from './wire-server.js';

export type { CallContext } from './wire-server.js';

/** Data messages are kept near 1 MiB; the limit leaves room for metadata-heavy answers. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** gRPC streams one connection may have open at once (a mount reads and writes a few dozen). */
export const MAX_STREAMS_PER_CONNECTION = 256;

/**
 * HTTP/2 flow-control windows for data streams. The protocol's default of 64 KiB per stream lets a
 * sender have only 64 KiB in flight before the receiver's event loop grants more, which halves a
 * replication chain's throughput on a busy host. grpc-js lets clients raise their receive window
 * (`grpc-node.flow_control_window`) but has no server option, so the server raises it on each new
 * session.
 */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
export const SESSION_WINDOW_BYTES = 64 * 1024 * 1024;

interface Http2SessionLike {
  settings(s: { initialWindowSize: number }): void;
  setLocalWindowSize(n: number): void;
}

function widenServerWindows(server: Server): void {
  // grpc-js keeps its node http2 servers in a private map; without it we keep the defaults.
  const servers = (server as unknown as { http2Servers?: Map<{ on(ev: 'session', fn: (s: Http2SessionLike) => void): void }, unknown> }).http2Servers;
  for (const h2 of servers?.keys() ?? []) {
    h2.on('session', (session) => {
      try {
        session.settings({ initialWindowSize: STREAM_WINDOW_BYTES });
        session.setLocalWindowSize(SESSION_WINDOW_BYTES);
      } catch {
        // a session closing at once: nothing to widen
      }
    });
  }
}

/**
 * Waits for the first bytes of a connection: FST's preface (the unary transport) or anything else
 * (gRPC's HTTP/2 preface). Resolves with what was read.
 */
function sniff(socket: Socket, done: (wire: boolean, head: Buffer) => void): void {
  let head: Buffer = Buffer.alloc(0);
  const finish = (wire: boolean): void => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    done(wire, head);
  };
  const onData = (d: Buffer): void => {
    head = head.length === 0 ? d : Buffer.concat([head, d]);
    const n = Math.min(head.length, PREFACE.length);
    if (!head.subarray(0, n).equals(PREFACE.subarray(0, n))) finish(false);
    else if (head.length >= PREFACE.length) finish(true);
  };
  const onEnd = (): void => {
    socket.destroy();
  };
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.on('error', () => undefined);
  socket.resume(); // paused when its first bytes were looked at
}

/** The first byte of a TLS connection (a handshake record). */
const TLS_HANDSHAKE = 0x16;

/** Calls `done` with the first bytes of a connection (to be unshifted back by the caller). */
function firstBytes(socket: Socket, done: (head: Buffer) => void): void {
  socket.on('error', () => undefined);
  socket.once('data', (head: Buffer) => {
    socket.pause();
    done(head);
  });
}

/** A daemon's RPC server: gRPC services and the unary transport, on one port. */
export class RpcServer {
  readonly grpc: Server;
  /** Unary methods by path, for the framed transport. */
  readonly wire = new Map<string, WireMethod>();
  private listener: NetServer | undefined;
  private readonly wireSockets = new Map<Socket, WireConnection>();
  private readonly tlsSockets = new Set<TLSSocket>();
  /**
   * Calls answered since the server started: every service, both transports, any outcome (a
   * stream when it ends). A plain count kept with or without metrics, so that a status answer
   * can carry it (the master's GetClusterStatus `master_calls`).
   */
  callsAnswered = 0;

  /**
   * `tls`: the daemon's own credential; undefined serves plaintext to anyone (`--insecure`).
   * `maxReceiveBytes`: the largest request message it takes (what its calls need, no more).
   */
  constructor(private readonly log: Logger, readonly tls?: Credentials, private readonly maxReceiveBytes = MAX_MESSAGE_BYTES) {
    this.grpc = new Server({
      'grpc.max_receive_message_length': maxReceiveBytes,
      // Streams one connection may have open at once (HTTP/2 SETTINGS): more wait at the client.
      'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
  }

  /** Listens on host:port (port 0 picks a free one); resolves with the port bound. */
  async bind(hostPort: string): Promise<number> {
    const { host, port } = parseHostPort(hostPort, 'listen address');
    const injector = this.grpc.createConnectionInjector(ServerCredentials.createInsecure());
    widenServerWindows(this.grpc);
    const serve = (socket: Socket, principal: Principal | undefined, refusal = PLAINTEXT_REFUSAL): void => {
      sniff(socket, (wire, head) => {
        if (wire) {
          socket.once('close', () => this.wireSockets.delete(socket));
          this.wireSockets.set(socket, serveWireConnection(socket, head.subarray(PREFACE.length), this.wire, this.log, principal, principal ? undefined : refusal, this.maxReceiveBytes));
        } else if (principal) {
          // HTTP/2 reads what was already buffered on the socket before its own reads.
          socket.unshift(head);
          injector.injectConnection(socket);
        } else {
          socket.destroy();
        }
      });
    };
    const tlsServer = this.tls && createTlsServer(serverTlsOptions(this.tls), (secure) => {
      this.tlsSockets.add(secure);
      secure.once('close', () => this.tlsSockets.delete(secure));
      const principal = principalOfSocket(secure);
      if (secure.alpnProtocol === ALPN_WIRE) serve(secure, principal, untrusted(secure));
      else if (principal) injector.injectConnection(secure);
      else secure.destroy();
    });
    // A handshake that fails (an unknown CA, no certificate) only closes that connection.
    tlsServer?.on('tlsClientError', () => undefined);
    const listener = createServer({ noDelay: true }, (socket) => {
      if (!tlsServer) {
        serve(socket, INSECURE_PRINCIPAL);
        return;
      }
      firstBytes(socket, (head) => {
        // Not a TLS handshake: a plaintext FST client hears why it is refused; anything else is dropped.
        if (head[0] !== TLS_HANDSHAKE) {
          socket.unshift(head);
          serve(socket, undefined);
          return;
        }
        socket.unshift(head);
        // node:tls checks the client's certificate only for sockets of a tls.Server.
        tlsServer.emit('connection', socket);
      });
    });
    this.listener = listener;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host.replace(/^\[(.*)\]$/, '$1'), () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const addr = listener.address();
    if (!addr || typeof addr === 'string') throw new FsError('EIO', `cannot tell the port bound at ${hostPort}`);
    return addr.port;
  }

  private closeListener(): void {
    this.listener?.close();
    this.listener = undefined;
    for (const s of this.wireSockets.keys()) s.destroy();
    this.wireSockets.clear();
    for (const s of this.tlsSockets) s.destroy();
    this.tlsSockets.clear();
  }

  /**
   * Stops accepting; `done` once the calls in flight have finished: unary calls are answered
   * before their connection closes (new ones on it are refused, UNAVAILABLE), gRPC's as grpc-js
   * drains them.
   */
  tryShutdown(done: () => void): void {
    this.listener?.close();
    this.listener = undefined;
    // The sets stay: forceShutdown (a drain that takes too long) destroys what is left.
    const wire = [...this.wireSockets];
    for (const s of this.tlsSockets) if (!this.wireSockets.has(s)) s.destroy();
    const unary = Promise.all(wire.map(([socket, c]) => c.drain().then(() => socket.destroy())));
    const streams = new Promise<void>((resolve) => this.grpc.tryShutdown(() => resolve()));
    void Promise.all([unary, streams]).then(() => done());
  }

  /** Drops every connection at once. */
  forceShutdown(): void {
    this.closeListener();
    this.grpc.forceShutdown();
  }
}

export function createRpcServer(log: Logger, tls?: Credentials, maxReceiveBytes?: number): RpcServer {
  return new RpcServer(log, tls, maxReceiveBytes);
}

/** Binds host:port (port 0 picks a free one) and resolves with the port bound. */
export function bindRpcServer(server: RpcServer, hostPort: string): Promise<number> {
  return server.bind(hostPort);
}

/* eslint-disable @typescript-eslint/no-explicit-any -- `any` in the patterns below only matches. */
type Req<M> = M extends MethodDescriptor<any, infer R, any, any, any> ? R : never;
type ResI<M> = M extends MethodDescriptor<any, any, infer I, any, any> ? I : never;
type KindOf<M> = M extends MethodDescriptor<any, any, any, any, infer K> ? K : never;
/* eslint-enable @typescript-eslint/no-explicit-any */

export type Handler<M> =
  KindOf<M> extends 'unary'
    ? (req: Req<M>, ctx: CallContext) => Promise<ResI<M>>
    : KindOf<M> extends 'server-stream'
      ? (req: Req<M>, call: ServerWritableStream<Req<M>, ResI<M>>, ctx: CallContext) => Promise<void>
      : KindOf<M> extends 'client-stream'
        ? (call: ServerReadableStream<Req<M>, ResI<M>>, ctx: CallContext) => Promise<ResI<M>>
        : (call: ServerDuplexStream<Req<M>, ResI<M>>, ctx: CallContext) => Promise<void>;

export type ServiceHandlers<T extends Record<string, AnyMethod>> = { [K in keyof T]: Handler<T[K]> };

function failureStatus(e: unknown, log: Logger, method: string): { code: status; details: string; metadata: ReturnType<typeof errnoMetadata> } {
  if (isServiceError(e)) {
    // A downstream daemon's answer (e.g. the next replica in a chain): pass its errno on.
    const code = errnoOfServiceError(e);
    return { code: statusForErrno(code), details: e.details || e.message, metadata: errnoMetadata(code) };
  }
  const fsErr = e instanceof FsError ? e : toFsError(e, (u) => log.error('unexpected error in handler', { method, err: u }));
  const s = fsErrorToStatus(fsErr);
  return { code: s.code, details: s.details, metadata: s.metadata };
}

/** One reason for every cancelled gRPC call: grpc-js reports 'cancelled' after many calls end. */
const CANCELLED = new FsError('EINTR', 'call cancelled by the caller');

interface GrpcCall {
  getPeer(): string;
  getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null;
  cancelled: boolean;
  on(ev: 'cancelled', fn: () => void): unknown;
}

function contextOf(call: GrpcCall, secure: boolean): CallContext {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort(CANCELLED));
  if (call.cancelled) ac.abort(CANCELLED);
  const principal = secure ? principalOfCert(call.getAuthContext()?.sslPeerCertificate) : INSECURE_PRINCIPAL;
  return { signal: ac.signal, peer: call.getPeer(), principal };
}

/**
 * Decides whether the caller in `ctx` may call `method`; throws an FsError (EACCES, EROFS...) if
 * not. It may also rewrite what in `request` depends on who calls (the master maps callers' ids
 * through their credential). Each daemon gives one per service to addService, the one place every
 * call passes. `request` is undefined for calls that stream requests.
 */
export type Authorize = (method: AnyMethod, ctx: CallContext, request: unknown) => void | Promise<void>;

/** What a plaintext caller of a daemon that requires TLS is told. */
export const NEEDS_CREDENTIAL =
  'this FST daemon accepts only TLS connections with a cluster credential: pass --credentials FILE ' +
  "(or FST_CREDENTIALS); the master wrote an admin credential to <data>/admin.credentials at its first start";

const PLAINTEXT_REFUSAL: CallFailure = { code: statusForErrno('EACCES'), details: NEEDS_CREDENTIAL, metadata: errnoMetadata('EACCES') };

/** Why a TLS caller without a principal is refused: its certificate is not one this cluster issued. */
function untrusted(socket: TLSSocket): CallFailure {
  const why = socket.authorizationError ? ` (${String(socket.authorizationError)})` : '';
  const details = `this FST daemon does not accept the credential presented${why}: it was not issued by this cluster's CA`;
  return { code: statusForErrno('EACCES'), details, metadata: errnoMetadata('EACCES') };
}

function needPrincipal(ctx: CallContext): void {
  if (!ctx.principal) throw new FsError('EACCES', NEEDS_CREDENTIAL);
}

/**
 * Registers a service whose handlers follow the async/throw-FsError contract. Every call answered
 * adds to `server.callsAnswered`; with `metrics`, every call is also counted by outcome and timed
 * (see common/metrics/rpc-server-metrics.ts).
 */
export function addService<T extends Record<string, AnyMethod>>(
  server: RpcServer,
  methods: T,
  handlers: ServiceHandlers<T>,
  log: Logger,
  metrics?: RpcServerMetrics,
  authorize?: Authorize,
): void {
  const impl: UntypedServiceImplementation = {};
  const secure = server.tls !== undefined;
  for (const [key, m] of Object.entries(methods)) {
    const handler = handlers[key as keyof T] as unknown as (...args: unknown[]) => Promise<unknown>;
    const carriesRequest = m.kind === 'unary' || m.kind === 'server-stream';
    // Every handler's last argument is its CallContext: the caller is checked before it runs. A
    // check that needs no lookup answers at once (no promise), as most calls' do.
    const h = (...args: unknown[]): Promise<unknown> => {
      try {
        const ctx = args[args.length - 1] as CallContext;
        needPrincipal(ctx);
        const pending = authorize?.(m, ctx, carriesRequest ? args[0] : undefined);
        return pending ? pending.then(() => handler(...args)) : handler(...args);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    };
    // Bound once per method: recording a unary call costs a timestamp and no allocation.
    const rec = metrics?.method(m.service, m.name);
    // Calls answered once (unary, client-stream) and calls that end a stream (server-stream, bidi).
    // `settle` resolves with the answer or rejects with the failure status, recorded either way.
    const settle = (run: () => Promise<unknown>): Promise<unknown> => {
      const t0 = rec ? performance.now() : 0;
      return run().then(
        (res) => {
          server.callsAnswered++;
          rec?.record(t0, OK);
          return res;
        },
        (e: unknown) => {
          server.callsAnswered++;
          const s: CallFailure = failureStatus(e, log, m.path);
          rec?.record(t0, errnoOfServiceError({ code: s.code, metadata: s.metadata ?? errnoMetadata('EIO') }));
          throw s;
        },
      );
    };
    const answer = (run: () => Promise<unknown>, cb: sendUnaryData<unknown>): void => {
      settle(run).then((res) => cb(null, res), (s: CallFailure) => cb(s));
    };
    const end = (run: () => Promise<unknown>, call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): void => {
      const out = rec && new StreamOutcome(rec, call);
      run().then(
        () => {
          server.callsAnswered++;
          out?.ok();
          call.end();
        },
        // grpc-js sends a status for an 'error' event; destroy() would send none and leave the
        // caller waiting for its deadline.
        (e: unknown) => {
          server.callsAnswered++;
          const s = failureStatus(e, log, m.path);
          out?.fail(s);
          call.emit('error', s);
        },
      );
    };
    switch (m.kind) {
      case 'unary':
        impl[key] = ((call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => answer(() => h(call.request, contextOf(call, secure)), cb)) as handleUnaryCall<unknown, unknown>;
        server.wire.set(m.path, {
          deserializeRequest: m.deserializeRequest,
          serializeResponse: m.serializeResponse,
          invoke: (request, ctx) => settle(() => h(request, ctx)),
        });
        break;
      case 'server-stream':
        impl[key] = (call: ServerWritableStream<unknown, unknown>) => end(() => h(call.request, call, contextOf(call, secure)), call);
        break;
      case 'client-stream':
        impl[key] = ((call: ServerReadableStream<unknown, unknown>, cb: sendUnaryData<unknown>) => answer(() => h(call, contextOf(call, secure)), cb)) as handleClientStreamingCall<unknown, unknown>;
        break;
      case 'bidi':
        impl[key] = (call: ServerDuplexStream<unknown, unknown>) => end(() => h(call, contextOf(call, secure)), call);
        break;
    }
  }
  server.grpc.addService(toServiceDefinition(methods), impl);
}
