/**
 * The frames of FST's unary call transport (wire-client.ts, wire-server.ts): length-prefixed
 * binary frames on one TCP connection, many calls in flight, matched by call id. Every frame:
 *
 *   u32 length of what follows | u8 kind | u32 call id | body
 *
 * - REQUEST body:  u16 method path length | method path (UTF-8, e.g. /fst.MasterService/Lookup) |
 *                  u32 timeout in ms (0: none) | protobuf request
 * - REPLY body:    protobuf response
 * - FAILURE body:  u8 gRPC status code | u8 errno name length | errno name (may be empty) |
 *                  u16 message length | message (UTF-8)
 * - CANCEL body:   empty (the caller gave up: the handler's signal aborts)
 *
 * A connection starts with the 8 bytes of PREFACE from the client, so that one port can serve
 * gRPC (whose HTTP/2 preface starts with "PRI") and this (listener.ts).
 */

export const PREFACE = Buffer.from('FSTRPC1\n', 'latin1');

export const FrameKind = { REQUEST: 1, REPLY: 2, FAILURE: 3, CANCEL: 4 } as const;
export type FrameKindValue = (typeof FrameKind)[keyof typeof FrameKind];

/** Largest frame accepted (the gRPC message limit, MAX_MESSAGE_BYTES). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024 + 64 * 1024;

const HEAD = 9; // u32 length + u8 kind + u32 id

/**
 * The bytes of a whole frame, length prefix included, from the prefix's value; throws on a frame
 * over `maxFrameBytes` or shorter than its header.
 */
export function frameBytes(length: number, maxFrameBytes: number): number {
  if (length < 5 || length > maxFrameBytes) throw new Error(`bad frame length ${length} (at most ${maxFrameBytes})`);
  return 4 + length;
}

/** The frame `whole` holds (length prefix included); its body is a view. */
export function frameOf(whole: Buffer): Frame {
  return { kind: whole.readUInt8(4), id: whole.readUInt32BE(5), body: whole.subarray(HEAD) };
}

export interface Frame {
  kind: number;
  id: number;
  body: Buffer;
}

export interface RequestBody {
  method: string;
  timeoutMs: number;
  payload: Buffer;
}

export interface FailureBody {
  code: number;
  errno: string;
  message: string;
}

/** The header of a frame whose body is `bodyBytes` long (written before the body, in one writev). */
export function frameHeader(kind: FrameKindValue, id: number, bodyBytes: number): Buffer {
  const h = Buffer.allocUnsafe(HEAD);
  h.writeUInt32BE(bodyBytes + 5, 0);
  h.writeUInt8(kind, 4);
  h.writeUInt32BE(id, 5);
  return h;
}

/** Bodies up to this size go out in one buffer with their header (one copy, one write). */
const JOIN_BELOW = 64 * 1024;

/**
 * A whole frame as the buffers to write: header and body joined when the body is small (a copy is
 * cheaper than a second buffer through the socket), else apart.
 */
export function frameBuffers(kind: FrameKindValue, id: number, body: Buffer): Buffer[] {
  if (body.length >= JOIN_BELOW) return [frameHeader(kind, id, body.length), body];
  const f = Buffer.allocUnsafe(HEAD + body.length);
  f.writeUInt32BE(body.length + 5, 0);
  f.writeUInt8(kind, 4);
  f.writeUInt32BE(id, 5);
  body.copy(f, HEAD);
  return [f];
}

const methodBytes = new Map<string, Buffer>();

/**
 * A REQUEST frame (header, method, timeout, payload) as the buffers to write. The payload may come
 * in parts (serializeRequestParts): small ones are joined with the header, large ones go as given.
 */
export function requestFrame(id: number, method: string, timeoutMs: number, payload: Buffer | readonly Buffer[]): Buffer[] {
  let path = methodBytes.get(method);
  if (!path) {
    path = Buffer.from(method, 'utf8');
    if (methodBytes.size < 1000) methodBytes.set(method, path);
  }
  const parts = Buffer.isBuffer(payload) ? [payload] : payload;
  let payloadBytes = 0;
  for (const p of parts) payloadBytes += p.length;
  // The leading parts joined with the header, up to the first large one.
  let joined = 0;
  let joinedBytes = 0;
  while (joined < parts.length && parts[joined]!.length < JOIN_BELOW) joinedBytes += parts[joined++]!.length;
  const prefix = 2 + path.length + 4;
  const f = Buffer.allocUnsafe(HEAD + prefix + joinedBytes);
  f.writeUInt32BE(prefix + payloadBytes + 5, 0);
  f.writeUInt8(FrameKind.REQUEST, 4);
  f.writeUInt32BE(id, 5);
  f.writeUInt16BE(path.length, HEAD);
  path.copy(f, HEAD + 2);
  f.writeUInt32BE(Math.max(0, Math.min(0xffff_ffff, Math.ceil(timeoutMs))), HEAD + 2 + path.length);
  let at = HEAD + prefix;
  for (let i = 0; i < joined; i++) at += parts[i]!.copy(f, at);
  return joined === parts.length ? [f] : [f, ...parts.slice(joined)];
}

/** The part of a REQUEST body before the payload. */
export function requestPrefix(method: string, timeoutMs: number): Buffer {
  const path = Buffer.from(method, 'utf8');
  const b = Buffer.allocUnsafe(2 + path.length + 4);
  b.writeUInt16BE(path.length, 0);
  path.copy(b, 2);
  b.writeUInt32BE(Math.max(0, Math.min(0xffff_ffff, Math.ceil(timeoutMs))), 2 + path.length);
  return b;
}

export function parseRequest(body: Buffer): RequestBody {
  if (body.length < 6) throw new Error('request frame too short');
  const n = body.readUInt16BE(0);
  if (body.length < 2 + n + 4) throw new Error('request frame too short for its method');
  return { method: body.toString('utf8', 2, 2 + n), timeoutMs: body.readUInt32BE(2 + n), payload: body.subarray(2 + n + 4) };
}

export function failureBody(f: FailureBody): Buffer {
  const errno = Buffer.from(f.errno.slice(0, 255), 'latin1');
  // Messages are for people: cut very long ones rather than refuse to send them.
  const message = Buffer.from(f.message.length > 16_000 ? `${f.message.slice(0, 16_000)}...` : f.message, 'utf8').subarray(0, 0xffff);
  const b = Buffer.allocUnsafe(1 + 1 + errno.length + 2 + message.length);
  b.writeUInt8(f.code & 0xff, 0);
  b.writeUInt8(errno.length, 1);
  errno.copy(b, 2);
  b.writeUInt16BE(message.length, 2 + errno.length);
  message.copy(b, 4 + errno.length);
  return b;
}

export function parseFailure(body: Buffer): FailureBody {
  if (body.length < 4) throw new Error('failure frame too short');
  const code = body.readUInt8(0);
  const n = body.readUInt8(1);
  if (body.length < 4 + n) throw new Error('failure frame too short for its errno');
  const m = body.readUInt16BE(2 + n);
  return { code, errno: body.toString('latin1', 2, 2 + n), message: body.toString('utf8', 4 + n, 4 + n + m) };
}

/**
 * Cuts a byte stream into frames. Chunks are kept as they arrive and joined only when a frame
 * spans several; a frame inside one chunk is a view of it (no copy).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes of the frame being received (length prefix included), once its prefix is in; else 0. */
  private need = 0;

  /** `maxFrameBytes`: the largest frame taken (a server's limit on requests). */
  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Adds received bytes; returns the frames completed (throws on a frame over the limit). */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.need === 0) {
        if (this.buffered < 4) break;
        // The length prefix split over chunks (rare): join them once.
        if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
        this.need = frameBytes(this.chunks[0]!.readUInt32BE(0), this.maxFrameBytes);
      }
      if (this.buffered < this.need) break;
      const whole = this.take(this.need);
      this.need = 0;
      frames.push(frameOf(whole));
    }
    return frames;
  }

  /** The next `n` bytes (all buffered), removed from the buffer. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const joined = Buffer.concat(this.chunks, this.buffered);
      out = joined.subarray(0, n);
      this.chunks = joined.length > n ? [joined.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
