import { describe, expect, it } from 'vitest';
import { ChunkExtents, GROWN_EXTENT_MAX } from '../../src/client/writeback/chunk-extents.js';

/** A reference model: the chunk as a byte array plus a dirty mask. */
class Model {
  readonly bytes: Buffer;
  readonly dirty: Uint8Array;
  constructor(size: number) {
    this.bytes = Buffer.alloc(size);
    this.dirty = new Uint8Array(size);
  }
  insert(offset: number, data: Buffer): void {
    data.copy(this.bytes, offset);
    this.dirty.fill(1, offset, offset + data.length);
  }
}

const fill = (n: number, v: number): Buffer => Buffer.alloc(n, v);

function check(ce: ChunkExtents, model: Model): void {
  let prevEnd = -1;
  let total = 0;
  for (const e of ce.extents) {
    expect(e.length).toBeGreaterThan(0);
    expect(e.offset).toBeGreaterThanOrEqual(prevEnd);
    expect(e.length).toBeLessThanOrEqual(e.buf.length);
    prevEnd = e.offset + e.length;
    total += e.length;
    expect(e.buf.subarray(0, e.length).equals(model.bytes.subarray(e.offset, e.offset + e.length))).toBe(true);
    expect(model.dirty.subarray(e.offset, e.offset + e.length).indexOf(0)).toBe(-1);
  }
  expect(ce.bytes).toBe(total);
  let dirty = 0;
  for (const d of model.dirty) dirty += d;
  expect(total).toBe(dirty);
}

describe('ChunkExtents', () => {
  it('copies data in, so a caller may reuse its buffer', () => {
    const ce = new ChunkExtents(1024);
    const b = fill(10, 1);
    ce.insert(0, b);
    b.fill(9);
    expect(ce.pieces()[0]!.data).toEqual(fill(10, 1));
  });

  it('writes inside an extent in place', () => {
    const ce = new ChunkExtents(1024);
    ce.insert(100, fill(100, 1));
    ce.insert(120, fill(10, 2));
    expect(ce.extents).toHaveLength(1);
    expect(ce.bytes).toBe(100);
    expect(ce.pieces()[0]!.data.subarray(18, 32)).toEqual(Buffer.from([1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1]));
  });

  it('trims the extents a write overlaps and drops those it covers', () => {
    const ce = new ChunkExtents(1024);
    const m = new Model(1024);
    for (const [o, n, v] of [[0, 100, 1], [150, 50, 2], [250, 100, 3], [400, 10, 4]] as const) {
      ce.insert(o, fill(n, v));
      m.insert(o, fill(n, v));
    }
    ce.insert(50, fill(250, 7)); // tail of 1, all of 2, head of 3
    m.insert(50, fill(250, 7));
    check(ce, m);
    expect(ce.pieces().map((p) => [p.offset, p.data.length])).toEqual([[0, 50], [50, 250], [300, 50], [400, 10]]);
  });

  it('grows sequential small writes into extents of up to 1 MiB without re-copying', () => {
    const ce = new ChunkExtents(8 * 1024 * 1024);
    const m = new Model(8 * 1024 * 1024);
    for (let o = 0, v = 0; o < 3 * 1024 * 1024; o += 4096, v++) {
      ce.insert(o, fill(4096, v & 0xff));
      m.insert(o, fill(4096, v & 0xff));
    }
    check(ce, m);
    expect(ce.extents.length).toBeLessThan(12);
    expect(Math.max(...ce.extents.map((e) => e.buf.length))).toBe(GROWN_EXTENT_MAX);
  });

  it('never gives a grown extent capacity past the next extent', () => {
    const ce = new ChunkExtents(4096);
    ce.insert(0, fill(1000, 1));
    ce.insert(1100, fill(100, 2));
    ce.insert(1000, fill(10, 3)); // continues the first, before the second
    expect(ce.extents[1]!.buf.length).toBeLessThanOrEqual(100);
  });

  it('matches a byte-array model under random writes', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const size = 64 * 1024;
    const ce = new ChunkExtents(size);
    const m = new Model(size);
    for (let i = 0; i < 2000; i++) {
      const o = rand(size);
      const n = 1 + rand(Math.min(size - o, 3000));
      const data = Buffer.alloc(n);
      for (let k = 0; k < n; k++) data[k] = rand(256);
      ce.insert(o, data);
      m.insert(o, data);
      if (i % 200 === 0) check(ce, m);
    }
    check(ce, m);
    const target = Buffer.alloc(5000, 0xee);
    ce.overlay(30000, target);
    for (let k = 0; k < 5000; k++) {
      expect(target[k]).toBe(m.dirty[30000 + k] ? m.bytes[30000 + k] : 0xee);
    }
  });

  it('refuses an extent outside the chunk', () => {
    const ce = new ChunkExtents(100);
    expect(() => ce.insert(90, fill(20, 1))).toThrow(RangeError);
  });
});
