/**
 * The additional checksums S3 accepts on a body (x-amz-checksum-crc32, -crc32c, -sha1, -sha256),
 * computed incrementally as the body streams, and compared as AWS sends them: base64 of the
 * big-endian value. CRC64NVME is not among them: no installed package computes it.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32, crc32c } from '@node-rs/crc32';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

const CHECKSUM_PREFIX = 'x-amz-checksum-';

/** The algorithm an `x-amz-checksum-*` header or trailer name stands for; undefined for any other name. */
export function checksumAlgorithmOf(headerName: string): ChecksumAlgorithm | undefined {
  const lower = headerName.toLowerCase();
  if (!lower.startsWith(CHECKSUM_PREFIX)) return undefined;
  const alg = lower.slice(CHECKSUM_PREFIX.length);
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(alg) ? (alg as ChecksumAlgorithm) : undefined;
}

/** x-amz-checksum-* headers that name an algorithm or a mode rather than carry a value. */
const NOT_VALUES = new Set(['type', 'algorithm', 'mode']);

/** Whether `headerName` carries a checksum value, of a supported algorithm or not (crc64nvme, say). */
export function isChecksumName(headerName: string): boolean {
  const lower = headerName.toLowerCase();
  return lower.startsWith(CHECKSUM_PREFIX) && /^[a-z0-9]+$/.test(lower.slice(CHECKSUM_PREFIX.length))
    && !NOT_VALUES.has(lower.slice(CHECKSUM_PREFIX.length));
}

const digestBytes: Record<ChecksumAlgorithm, number> = { crc32: 4, crc32c: 4, sha1: 20, sha256: 32 };

/** A checksum fed piece by piece. */
export interface RunningChecksum {
  update(data: Uint8Array): void;
  /** The base64 of the final value, as it travels in headers and trailers. */
  base64(): string;
}

class RunningCrc implements RunningChecksum {
  private state = 0;
  constructor(private readonly fn: typeof crc32) {}
  update(data: Uint8Array): void {
    this.state = this.fn(data, this.state);
  }
  base64(): string {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.state >>> 0);
    return out.toString('base64');
  }
}

class RunningHash implements RunningChecksum {
  private readonly hash: Hash;
  constructor(alg: 'sha1' | 'sha256') {
    this.hash = createHash(alg);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  base64(): string {
    return this.hash.digest('base64');
  }
}

export function runningChecksum(alg: ChecksumAlgorithm): RunningChecksum {
  switch (alg) {
    case 'crc32': return new RunningCrc(crc32);
    case 'crc32c': return new RunningCrc(crc32c);
    case 'sha1':
    case 'sha256': return new RunningHash(alg);
  }
}

/** Whether `value` is the canonical base64 of a digest of the algorithm's size. */
export function isWellFormedChecksum(alg: ChecksumAlgorithm, value: string): boolean {
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === digestBytes[alg] && bytes.toString('base64') === value;
}
