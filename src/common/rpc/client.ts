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
import { isServiceError, serviceErrorToFsError } from '../errors/rpc-status.js';
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

export class RpcClient {
  private readonly client: Client;
  private readonly wire: WireChannel;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;

  constructor(readonly address: string, options: RpcClientOptions = {}) {
    const tls = options.tls;
    const channelCredentials = tls
      ? credentials.createFromSecureContext(secureContextOf(tls.credentials), { checkServerIdentity: serverIdentityCheck(tls.server) })
      : credentials.createInsecure();
    this.client = new Client(address, channelCredentials, {
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
    });
    this.wire = new WireChannel(address, tls);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retryForMs = options.retryForMs ?? 10_000;
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

  private toError(e: ServiceError, m: { path: string }): FsError {
    return serviceErrorToFsError(e, `${m.path} at ${this.address}`);
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
    for (let attempt = 0; ; attempt++) {
      try {
        return m.deserializeResponse(await this.wire.call(m.path, payload, timeoutMs, opts.signal));
      } catch (e) {
        if (!isServiceError(e)) throw e;
        const backoff = Math.min(2_000, 50 * 2 ** attempt) * (0.5 + Math.random());
        if (e.code === status.UNAVAILABLE && !opts.signal?.aborted && Date.now() + backoff < retryUntil) {
          await sleep(backoff, opts.signal);
          continue;
        }
        throw this.toError(e, m);
      }
    }
  }

  /** One request, a stream of responses. Errors surface as FsError from the iterator. */
  async *serverStream<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'server-stream'>,
    request: ReqI,
    opts: RpcCallOptions = {},
  ): AsyncGenerator<Res> {
    const call: ClientReadableStream<Res> = this.client.makeServerStreamRequest(
      m.path, m.serializeRequest, m.deserializeResponse, request, new Metadata(), this.callOptions(opts, opts.timeoutMs),
    );
    this.wireAbort(call, opts.signal);
    try {
      for await (const msg of call) yield msg as Res;
    } catch (e) {
      throw isServiceError(e) ? this.toError(e, m) : e;
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
    const response = new Promise<Res>((resolve, reject) => {
      call = this.client.makeClientStreamRequest(
        m.path, m.serializeRequest, m.deserializeResponse, new Metadata(), this.callOptions(opts, opts.timeoutMs),
        (err, res) => (err ? reject(this.toError(err, m)) : resolve(res as Res)),
      );
    });
    this.wireAbort(call, opts.signal);
    return { call, response };
  }

  /** Streams both ways (the heartbeat). */
  bidi<ReqI, Req extends ReqI, ResI, Res extends ResI>(
    m: MethodDescriptor<ReqI, Req, ResI, Res, 'bidi'>,
    opts: RpcCallOptions = {},
  ): ClientDuplexStream<ReqI, Res> {
    const call = this.client.makeBidiStreamRequest(
      m.path, m.serializeRequest, m.deserializeResponse, new Metadata(), this.callOptions(opts, opts.timeoutMs),
    );
    this.wireAbort(call, opts.signal);
    return call;
  }

  /** Turns a stream's error into an FsError (for callers handling stream events themselves). */
  streamError(e: unknown, m: { path: string }): unknown {
    return isServiceError(e) ? this.toError(e, m) : e;
  }

  close(): void {
    this.wire.close();
    this.client.close();
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
