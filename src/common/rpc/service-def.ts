/**
 * Typed gRPC method descriptors built from the pbjs-generated message classes. Each service's
 * table (src/common/rpc/services.ts) names its methods once; servers and clients both use it, so a
 * method's path, streaming kind and message types cannot disagree between the two ends.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** What pbjs generates for every message: encode to a writer, decode from bytes. */
export interface MessageCodec<I, M extends I> {
  encode(message: I): { finish(): Uint8Array };
  decode(bytes: Uint8Array): M;
}

export type StreamKind = 'unary' | 'server-stream' | 'client-stream' | 'bidi';

/**
 * One RPC. `ReqI`/`ResI` are the plain-object shapes a sender builds; `Req`/`Res` are the decoded
 * classes a receiver gets, whose absent fields read as proto3 defaults.
 */
export interface MethodDescriptor<ReqI, Req extends ReqI, ResI, Res extends ResI, Kind extends StreamKind = StreamKind> {
  readonly service: string;
  readonly name: string;
  readonly path: string;
  readonly kind: Kind;
  readonly serializeRequest: (value: ReqI) => Buffer;
  /**
   * The request as buffers to send one after another, for a message whose large bytes field should
   * go out as the sender's own buffer rather than be copied into an encoding (FST's framed transport
   * only; gRPC uses serializeRequest).
   */
  readonly serializeRequestParts?: (value: ReqI) => Buffer[];
  readonly deserializeRequest: (bytes: Buffer) => Req;
  readonly serializeResponse: (value: ResI) => Buffer;
  readonly deserializeResponse: (bytes: Buffer) => Res;
}

/** In Node, protobufjs writes into a Buffer: finish() already returns one, no copy needed. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function method<ReqI, Req extends ReqI, ResI, Res extends ResI, Kind extends StreamKind>(
  service: string,
  name: string,
  kind: Kind,
  request: MessageCodec<ReqI, Req>,
  response: MessageCodec<ResI, Res>,
): MethodDescriptor<ReqI, Req, ResI, Res, Kind> {
  return {
    service,
    name,
    path: `/${service}/${name}`,
    kind,
    serializeRequest: (value) => toBuffer(request.encode(value).finish()),
    deserializeRequest: (bytes) => request.decode(bytes),
    serializeResponse: (value) => toBuffer(response.encode(value).finish()),
    deserializeResponse: (bytes) => response.decode(bytes),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMethod = MethodDescriptor<any, any, any, any>;

/** The grpc-js service definition of a table of descriptors. */
export function toServiceDefinition(methods: Record<string, AnyMethod>): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [key, m] of Object.entries(methods)) {
    def[key] = {
      path: m.path,
      originalName: m.name,
      requestStream: m.kind === 'client-stream' || m.kind === 'bidi',
      responseStream: m.kind === 'server-stream' || m.kind === 'bidi',
      requestSerialize: m.serializeRequest,
      requestDeserialize: m.deserializeRequest,
      responseSerialize: m.serializeResponse,
      responseDeserialize: m.deserializeResponse,
    };
  }
  return def as ServiceDefinition;
}
