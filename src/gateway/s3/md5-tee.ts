/**
 * A pass-through that computes the MD5 of what flows: the ETag S3 gives an object (or a part) is
 * the hex MD5 of its bytes, whether or not the client sent Content-MD5.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export class Md5Tee extends Transform {
  private readonly hash = createHash('md5');
  private digestHex: string | undefined;
  private byteCount = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.byteCount += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.digestHex = this.hash.digest('hex');
    callback();
  }

  /** The hex MD5 of everything that passed; only once the stream has ended. */
  hex(): string {
    if (this.digestHex === undefined) throw new Error('Md5Tee.hex() called before the stream ended');
    return this.digestHex;
  }

  /** Bytes that have passed so far. */
  get bytes(): number {
    return this.byteCount;
  }
}
