/**
 * A pass-through that digests what flows and, at the end, compares the digest with the one the
 * client declared. The comparison happens in flush, so a mismatch errors the stream before it
 * ends and a writer that commits on end never commits the body.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { runningChecksum, type ChecksumAlgorithm } from './checksums.js';
import { S3Error } from './s3-error.js';

/** A digest fed piece by piece, read once at the end in the encoding the client declared it in. */
export interface RunningDigest {
  update(data: Uint8Array): void;
  result(): string;
}

export class DigestCheck extends Transform {
  constructor(
    private readonly digest: RunningDigest,
    private readonly expected: string,
    private readonly mismatch: (computed: string) => S3Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.digest.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const computed = this.digest.result();
    callback(computed === this.expected ? null : this.mismatch(computed));
  }
}

function hashDigest(alg: 'md5' | 'sha256', encoding: 'hex' | 'base64'): RunningDigest {
  const hash = createHash(alg);
  return { update: (data) => hash.update(data), result: () => hash.digest(encoding) };
}

/** x-amz-content-sha256 given as a hash: the body must hash to it. */
export function sha256Check(expectedHex: string): DigestCheck {
  return new DigestCheck(hashDigest('sha256', 'hex'), expectedHex.toLowerCase(), (computed) =>
    new S3Error('XAmzContentSHA256Mismatch', undefined, {
      details: { ClientComputedContentSHA256: expectedHex, S3ComputedContentSHA256: computed },
    }));
}

/** Content-MD5 (base64 of the 16-byte digest, already checked well formed). */
export function md5Check(expectedBase64: string): DigestCheck {
  return new DigestCheck(hashDigest('md5', 'base64'), expectedBase64, (computed) =>
    new S3Error('BadDigest', undefined, { details: { ExpectedDigest: expectedBase64, CalculatedDigest: computed } }));
}

/** An x-amz-checksum-* header on the body (already checked well formed). */
export function checksumCheck(alg: ChecksumAlgorithm, expectedBase64: string): DigestCheck {
  const sum = runningChecksum(alg);
  return new DigestCheck({ update: (data) => sum.update(data), result: () => sum.base64() }, expectedBase64, () =>
    new S3Error('BadDigest', `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`));
}
