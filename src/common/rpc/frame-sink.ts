/**
 * Receives frames of the unary transport (wire-frame.ts) through a socket's `onread` option: the
 * socket reads (a TLS socket decrypts) straight into buffers this hands out, instead of making a
 * new Buffer per read and passing it through a stream. Small frames gather in a staging buffer and
 * are copied out whole; a large one (a 1 MiB chunk read's answer) gets a buffer of its own as soon
 * as its length is known, and the socket fills it in place: its bytes are copied once, from the
 * kernel or the TLS record, and never again.
 *
 * Why: with TLS node delivers 16 KiB per read; as 'data' events each was a new ArrayBuffer, a trip
 * through the stream machinery and, at the frame's end, part of a concatenation. A cold sequential
 * read through a mount spent about a fifth of the mount's CPU there.
 */
import { MAX_FRAME_BYTES, frameBytes, frameOf, type Frame } from './wire-frame.js';

/** The staging buffer; frames longer than a quarter of it get their own. */
const STAGING_BYTES = 64 * 1024;
const OWN_BUFFER_FROM = STAGING_BYTES / 4;

export class FrameSink {
  private readonly staging = Buffer.allocUnsafe(STAGING_BYTES);
  /** Bytes in staging not yet taken (from 0). */
  private used = 0;
  /** The large frame being filled in place (length prefix included), and how much of it is in. */
  private own: Buffer | undefined;
  private ownFilled = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Where the socket's next bytes go (never empty). */
  next(): Buffer {
    return this.own ? this.own.subarray(this.ownFilled) : this.staging.subarray(this.used);
  }

  /** `n` bytes arrived in the buffer `next()` gave; returns the frames they completed. Throws on a frame over the limit. */
  received(n: number): Frame[] {
    if (this.own) {
      this.ownFilled += n;
      if (this.ownFilled < this.own.length) return [];
      const whole = this.own;
      this.own = undefined;
      this.ownFilled = 0;
      return [frameOf(whole)];
    }
    this.used += n;
    const frames: Frame[] = [];
    let at = 0;
    while (this.used - at >= 4) {
      const total = frameBytes(this.staging.readUInt32BE(at), this.maxFrameBytes);
      const have = this.used - at;
      if (have >= total) {
        // Copied out: the staging buffer is written again by the next read.
        frames.push(frameOf(Buffer.from(this.staging.subarray(at, at + total))));
        at += total;
        continue;
      }
      if (total >= OWN_BUFFER_FROM) {
        this.own = Buffer.allocUnsafe(total);
        this.staging.copy(this.own, 0, at, this.used);
        this.ownFilled = have;
        at = this.used;
      }
      break;
    }
    // What is left is the start of a small frame: move it to the front (at most a few KiB).
    if (at > 0) {
      this.staging.copy(this.staging, 0, at, this.used);
      this.used -= at;
    }
    return frames;
  }
}
