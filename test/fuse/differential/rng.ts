/**
 * A small seeded PRNG (mulberry32) for the differential tester: the same seed always yields the
 * same operation sequence and the same bytes, on any machine, so a failing seed replays exactly.
 * Not for cryptography.
 */

/** mulberry32: 32 bits of state, full period 2^32, good enough to drive a test generator. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export class Rng {
  private readonly next32: () => number;

  constructor(readonly seed: number) {
    this.next32 = mulberry32(seed);
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    return this.next32();
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next32() / 2 ** 32;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`int(${min}, ${max}): empty range`);
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty array');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A key of `weights` chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let x = this.float() * total;
    for (const [k, w] of entries) {
      x -= w;
      if (x < 0) return k;
    }
    return entries[entries.length - 1]![0];
  }

  /** `n` pseudo-random bytes. */
  bytes(n: number): Buffer {
    return fillBytes(Buffer.allocUnsafe(n), this.u32());
  }
}

/**
 * Fills `buf` with the bytes of stream `seed`: a write op stores only (seed, length), and both roots
 * regenerate the identical payload from it. Four bytes per PRNG step keeps 300 KiB cheap.
 */
export function fillBytes(buf: Buffer, seed: number): Buffer {
  const next = mulberry32(seed);
  let i = 0;
  for (; i + 4 <= buf.length; i += 4) buf.writeUInt32LE(next(), i);
  if (i < buf.length) {
    const last = next();
    for (let k = 0; i < buf.length; i++, k++) buf[i] = (last >>> (8 * k)) & 0xff;
  }
  return buf;
}

/** The payload of a write op: `len` bytes of stream `seed`. */
export const payload = (seed: number, len: number): Buffer => fillBytes(Buffer.allocUnsafe(len), seed);
