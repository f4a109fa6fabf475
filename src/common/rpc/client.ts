/**
 * An RPC client for one address with FST's call contract: every call has a deadline and may take an
 * AbortSignal (combined with AbortSignal.any, never overwritten); failures become FsError with the
 * daemon's errno; unary calls are retried, with backoff and jitter, only on UNAVAILABLE (the request
 * did not reach a server) and only within the call's retry window. Unary calls travel over FST's
 * framed transport (wire-client.ts), streams over gRPC; both fail with the same ServiceError shape.
 */
import {
  Client,
  Metadata,
  credentials,
  status,
  type CallOptions,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { FsError } from '../errors/errno.js';
import type { Credentials } from '../security/credentials-file.js';
import { TLS_SERVER_NAME, serverIdentityCheck, secureContextOf, type ServerKind } from '../security/tls-options.js';
import { answeredErrno, isServiceError, serviceErrorToFsError } from '../errors/rpc-status.js';
import { MAX_MESSAGE_BYTES, STREAM_WINDOW_BYTES } from './server.js';
import type { MethodDescriptor } from './service-def.js';
import { WireChannel } from './wire-client.js';

export interface RpcCallOptions {
  /** Milliseconds until the call fails with ETIMEDOUT. */
  timeoutMs?: number;
  /** Aborting it cancels the call (EINTR). */
  signal?: AbortSignal;
  /** How long UNAVAILABLE may be retried, in ms (0: no retry). */
  retryForMs?: number;
}

export interface RpcClientOptions {
  /** Default deadline of unary calls. @default 30000 */
  timeoutMs?: number;
  /** Default retry window for UNAVAILABLE. @default 10000 */
  retryForMs?: number;
  /**
   * This process's credential and the kind of server it calls: TLS checked against the cluster
   * CA and the server's role. Undefined: plaintext (a cluster run `--insecure`).
   */
  tls?: { credentials: Credentials; server: ServerKind };
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new FsError('EINTR', 'call aborted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** One address of a client's list: its gRPC client (streams) and its framed channel (unary calls). */
class Endpoint {
  private grpcClient: Client | undefined;
  readonly wire: WireChannel;
  /** Date.now() until which this address is passed over: nothing answered there (see RpcClient.moveOn). */
  unreachableUntil = 0;

  /** `watched`: one of several (masters): a connection gone silent is given up quickly (see ConnectionWatch). */
  constructor(readonly address: string, private readonly tls: RpcClientOptions['tls'], private readonly watched: boolean) {
    this.wire = new WireChannel(address, tls, watched ? LIST_WATCH : undefined);
  }

  /** Made on first use: most clients of a list of masters only ever stream to one of them. */
  get grpc(): Client {
    this.grpcClient ??= grpcClientFor(this.address, this.tls, this.watched);
    return this.grpcClient;
  }

  close(): void {
    this.wire.close();
    this.grpcClient?.close();
  }
}

/**
 * Liveness of connections to one of several masters: a master cut off by the network is noticed
 * within about 7 s (unary calls) and 5 s (streams: HTTP/2 pings), while its successor takes over
 * within the lease time (5 s) and a moment.
 */
const LIST_WATCH = { probeAfterMs: 2_000, deadAfterMs: 7_000 };
/** How long an address where nothing answered is passed over while another may be asked. */
const UNREACHABLE_MS = 3_000;
const LIST_KEEPALIVE = { 'grpc.keepalive_time_ms': 2_000, 'grpc.keepalive_timeout_ms': 3_000 };

function grpcClientFor(address: string, tls: RpcClientOptions['tls'], watched: boolean): Client {
  const channelCredentials = tls
    ? credentials.createFromSecureContext(secureContextOf(tls.credentials), { checkServerIdentity: serverIdentityCheck(tls.server) })
    : credentials.createInsecure();
  return new Client(address, channelCredentials, {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': 30_000,
    // Reconnect quickly after a daemon restarts instead of backing off for up to two minutes.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.enable_retries': 0,
    // Wide receive windows: see STREAM_WINDOW_BYTES in server.ts.
    'grpc-node.flow_control_window': STREAM_WINDOW_BYTES,
    // Servers are checked by CA and role, not name (tls-options.ts); a fixed name also keeps
    // node from sending an IP address as the TLS server name (RFC 6066 forbids it).
    ...(tls ? { 'grpc.ssl_target_name_override': TLS_SERVER_NAME, 'grpc.default_authority': address } : {}),
    ...(watched ? LIST_KEEPALIVE : {}),
  });
}

/**
 * `address` may be a comma-separated list (`a:9420,b:9420`: masters sharing one database, one of
 * them active). Calls go to the address that last answered; UNAVAILABLE from it (no connection,
 * the connection lost, or a standby master's refusal) moves the client on to the next address,
 * round the list, and the call is retried there within its retry window: the client follows the
 * active master wherever it is.
 */
export class RpcClient {
  private readonly endpoints: Endpoint[];
  /** The endpoint calls go to now (the one that last answered, or the next to try). */
  private current = 0;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;

  constructor(readonly address: string, options: RpcClientOptions = {}) {
    const addresses = address.split(',').map((a) => a.trim());
    this.endpoints = addresses.map((a) => new Endpoint(a, options.tls, addresses.length > 1));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retryForMs = options.retryForMs ?? 10_000;
  }

  /** The address calls go to now (one of the list). */
  get activeAddress(): string {
    return this.endpoint().address;
  }

  private endpoint(): Endpoint {
    return this.endpoints[this.current]!;
  }

  /**
   * A call at `failed` ended UNAVAILABLE: the next calls go to the next address of the list, passing
   * over those where nothing answered lately (a standby answers: it is worth asking again until it
   * takes over, while a dead or cut-off master's address costs a connect timeout each time). Only
   * when `failed` is still the current one, so that calls failing together move the client on once.
   * `e` undefined: a stream's failure, taken as unreachable.
   */
  private moveOn(failed: Endpoint, e?: ServiceError): void {
    const n = this.endpoints.length;
    if (n <= 1) return;
    const now = Date.now();
    if (!e || answeredErrno(e) === undefined) failed.unreachableUntil = now + UNREACHABLE_MS;
    if (this.endpoint() !== failed) return;
    for (let step = 1; step <= n; step++) {
      const i = (this.current + step) % n;
      if (step === n || this.endpoints[i]!.unreachableUntil <= now) {
        this.current = i;
        return;
      }
    }
  }

  private callOptions(opts: RpcCallOptions, defaultTimeout: number | undefined): CallOptions {
    const timeout = opts.timeoutMs ?? defaultTimeout;
    return timeout === undefined ? {} : { deadline: Date.now() + timeout };
  }

  /** Cancels the call when `signal` aborts; the listener goes when the call ends (no leak on long-lived signals). */
  private wireAbort(call: { cancel(): void; once(ev: 'status', fn: () => void): unknown }, signal: AbortSignal | undefined): void {
    if (!signal) return;
    if (signal.aborted) {
      call.cancel();
      return;
    }
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    call.once('status', () => signal.removeEventListener('abort', onAbort));
  }

  /** The call's error as an FsError; UNAVAILABLE from `at` moves the client on (see moveOn). */
  private toError(e: ServiceError, m: { path: string }, at: Endpoint): FsError {
    if (e.code === status.UNAVAILABLE) this.moveOn(at, e);
    return serviceErrorToFsError(e, `${m.path} at ${at.address}`);
  }

  /** One request, one response. */
  async unary<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'unary'>,
    request: ReqI,
    opts: RpcCallOptions = {},
  ): Promise<Res> {
    const retryUntil = Date.now() + (opts.retryForMs ?? this.retryForMs);
    const payload = m.serializeRequestParts ? m.serializeRequestParts(request) : m.serializeRequest(request);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const n = this.endpoints.length;
    for (let attempt = 0; ; attempt++) {
      const at = this.endpoint();
      try {
        return m.deserializeResponse(await at.wire.call(m.path, payload, timeoutMs, opts.signal));
      } catch (e) {
        if (!isServiceError(e)) throw e;
        if (e.code === status.UNAVAILABLE) this.moveOn(at, e);
        // With a list, each address is tried once before the backoff grows.
        const backoff = Math.min(2_000, 50 * 2 ** Math.floor(attempt / n)) * (0.5 + Math.random());
        if (e.code === status.UNAVAILABLE && !opts.signal?.aborted && Date.now() + backoff < retryUntil) {
          await sleep(backoff, opts.signal);
          continue;
        }
        throw serviceErrorToFsError(e, `${m.path} at ${at.address}`);
      }
    }
  }

  /** One request, a stream of responses. Errors surface as FsError from the iterator. */
  async *serverStream<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'server-stream'>,
    request: ReqI,
    opts: RpcCallOptions = {},
  ): AsyncGenerator<Res> {
    const at = this.endpoint();
    const call: ClientReadableStream<Res> = at.grpc.makeServerStreamRequest(
      m.path, m.serializeRequest, m.deserializeResponse, request, new Metadata(), this.callOptions(opts, opts.timeoutMs),
    );
    this.wireAbort(call, opts.signal);
    try {
      for await (const msg of call) yield msg as Res;
    } catch (e) {
      throw isServiceError(e) ? this.toError(e, m, at) : e;
    } finally {
      call.cancel();
    }
  }

  /** A stream of requests, one response. Write to `call`, then `end()` it and await `response`. */
  clientStream<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'client-stream'>,
    opts: RpcCallOptions = {},
  ): { call: ClientWritableStream<ReqI>; response: Promise<Res> } {
    let call!: ClientWritableStream<ReqI>;
    const at = this.endpoint();
    const response = new Promise<Res>((resolve, reject) => {
      call = at.grpc.makeClientStreamRequest(
        m.path, m.serializeRequest, m.deserializeResponse, new Metadata(), this.callOptions(opts, opts.timeoutMs),
        (err, res) => (err ? reject(this.toError(err, m, at)) : resolve(res as Res)),
      );
    });
    this.wireAbort(call, opts.signal);
    return { call, response };
  }

  /** Streams both ways (the heartbeat). Pass its errors through `streamError`, which follows a list's active address. */
  bidi<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'bidi'>,
    opts: RpcCallOptions = {},
  ): ClientDuplexStream<ReqI, Res> {
    const at = this.endpoint();
    const call = at.grpc.makeBidiStreamRequest(
      m.path, m.serializeRequest, m.deserializeResponse, new Metadata(), this.callOptions(opts, opts.timeoutMs),
    );
    this.streamEndpoints.set(call, at);
    this.wireAbort(call, opts.signal);
    return call;
  }

  /** The endpoint each open bidi stream went to, for its error (weak: a stream that ends is forgotten). */
  private readonly streamEndpoints = new WeakMap<object, Endpoint>();

  /**
   * Turns a stream's error into an FsError (for callers handling stream events themselves); give
   * the stream it came from so that UNAVAILABLE moves a client with a list on to the next address.
   */
  streamError(e: unknown, m: { path: string }, stream?: object): unknown {
    if (!isServiceError(e)) return e;
    const at = (stream && this.streamEndpoints.get(stream)) ?? this.endpoint();
    return this.toError(e, m, at);
  }

  close(): void {
    for (const e of this.endpoints) e.close();
  }
}

/** One client per address, shared: a chunkserver or client talks to many peers repeatedly. */
export class RpcClientPool {
  private readonly clients = new Map<string, RpcClient>();
  constructor(private readonly options: RpcClientOptions = {}) {}

  get(address: string): RpcClient {
    let c = this.clients.get(address);
    if (!c) {
      c = new RpcClient(address, this.options);
      this.clients.set(address, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
