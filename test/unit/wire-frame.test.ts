/** The unary transport's frames: cutting a byte stream into frames however it arrives, and the bodies' codecs. */
import { describe, expect, it } from 'vitest';
import {
  FrameKind, FrameReader, MAX_FRAME_BYTES, failureBody, frameHeader, parseFailure, parseRequest, requestPrefix,
} from '../../src/common/rpc/wire-frame.js';

function frame(kind: 1 | 2 | 3 | 4, id: number, body: Buffer): Buffer {
  return Buffer.concat([frameHeader(kind, id, body.length), body]);
}

describe('wire frames', () => {
  it('reads frames split anywhere and frames sharing a chunk, in order', () => {
    const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];
    const stream = Buffer.concat(bodies.map((b, i) => frame(FrameKind.REPLY, i + 1, b)));
    for (const step of [1, 3, 9, 4096, stream.length]) {
      const r = new FrameReader();
      const got = [];
      for (let off = 0; off < stream.length; off += step) got.push(...r.push(stream.subarray(off, off + step)));
      expect(got.map((f) => f.id), `step ${step}`).toEqual([1, 2, 3, 4]);
      expect(got.map((f) => f.kind)).toEqual([2, 2, 2, 2]);
      got.forEach((f, i) => expect(f.body.equals(bodies[i]!), `step ${step} frame ${i}`).toBe(true));
    }
  });

  it('refuses a frame claiming more than the limit, or less than a header', () => {
    const huge = Buffer.alloc(9);
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    expect(() => new FrameReader().push(huge)).toThrow(/bad frame length/);
    const tiny = Buffer.alloc(9);
    tiny.writeUInt32BE(2, 0);
    expect(() => new FrameReader().push(tiny)).toThrow(/bad frame length/);
  });

  it('round-trips a request body and a failure body', () => {
    const payload = Buffer.from([1, 2, 3]);
    const body = Buffer.concat([requestPrefix('/fst.MasterService/Lookup', 1234.2), payload]);
    expect(parseRequest(body)).toEqual({ method: '/fst.MasterService/Lookup', timeoutMs: 1235, payload });
    expect(() => parseRequest(Buffer.from([0, 50, 1]))).toThrow();
    const f = { code: 5, errno: 'ENOENT', message: 'no such thing: ünïcode' };
    expect(parseFailure(failureBody(f))).toEqual(f);
    expect(parseFailure(failureBody({ code: 13, errno: '', message: '' }))).toEqual({ code: 13, errno: '', message: '' });
    expect(() => parseFailure(Buffer.from([5, 200, 1]))).toThrow();
  });
});
