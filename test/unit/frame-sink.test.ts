/**
 * FrameSink: frames of the unary transport received the way a socket's `onread` delivers them
 * (each read into the buffer the sink gave, at most that long), however the bytes are cut.
 */
import { describe, expect, it } from 'vitest';
import { FrameSink } from '../../src/common/rpc/frame-sink.js';
import { FrameKind, MAX_FRAME_BYTES, frameHeader, type Frame } from '../../src/common/rpc/wire-frame.js';

function frame(id: number, body: Buffer): Buffer {
  return Buffer.concat([frameHeader(FrameKind.REPLY, id, body.length), body]);
}

/** Feeds `stream` to a sink in reads of at most `step` bytes (and at most what the sink's buffer holds). */
function feed(stream: Buffer, step: (i: number) => number): Frame[] {
  const sink = new FrameSink();
  const frames: Frame[] = [];
  let off = 0;
  for (let i = 0; off < stream.length; i++) {
    const into = sink.next();
    if (into.length === 0) throw new Error(`the sink handed out an empty buffer at byte ${off}`);
    const n = Math.min(step(i), into.length, stream.length - off);
    stream.copy(into, 0, off, off + n);
    off += n;
    // Bytes past those read must not matter: scribble over the rest of the buffer handed out.
    into.fill(0xee, n, Math.min(into.length, n + 64));
    frames.push(...sink.received(n));
  }
  return frames;
}

describe('FrameSink', () => {
  const bodies = [
    Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(1024 * 1024 + 3, 7), Buffer.from('small'), Buffer.alloc(16_000, 9),
    Buffer.alloc(20_000, 4), Buffer.alloc(70_000, 5), Buffer.from('last'),
  ];
  bodies.forEach((b, i) => { if (b.length > 100) for (let k = 0; k < b.length; k += 997) b[k] = (k + i) & 0xff; });
  const stream = Buffer.concat(bodies.map((b, i) => frame(i + 1, b)));

  it('gives back every frame whole and in order, however the reads cut the stream', () => {
    const steps: Array<[string, (i: number) => number]> = [
      ['1 byte', () => 1], ['5 bytes', () => 5], ['TLS records', () => 16 * 1024], ['64 KiB', () => 65536],
      ['all at once', () => stream.length], ['uneven', (i) => [1, 7, 16384, 3, 65536, 100_000][i % 6]!],
    ];
    for (const [name, step] of steps) {
      const got = feed(stream, step);
      expect(got.map((f) => f.id), name).toEqual(bodies.map((_, i) => i + 1));
      got.forEach((f, i) => expect(f.body.equals(bodies[i]!), `${name}: frame ${i + 1}`).toBe(true));
    }
  });

  it('refuses a frame claiming more than the limit, or less than a header', () => {
    for (const length of [MAX_FRAME_BYTES + 1, 2]) {
      const sink = new FrameSink();
      const into = sink.next();
      into.writeUInt32BE(length, 0);
      expect(() => sink.received(9)).toThrow(/bad frame length/);
    }
  });
});
