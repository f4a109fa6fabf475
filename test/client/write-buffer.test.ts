import { describe, expect, it } from 'vitest';
import { WriteBuffer } from '../../src/client/writeback/write-buffer.js';

const C = 1024; // a small chunk size keeps the arithmetic readable

describe('WriteBuffer', () => {
  it('cuts a write at chunk boundaries', () => {
    const b = new WriteBuffer(C);
    b.insert(1000, Buffer.alloc(2100, 1)); // [1000, 3100): chunks 0, 1, 2, 3
    expect(b.bytes).toBe(2100);
    expect(b.end).toBe(3100);
    const jobs = b.chunkJobs();
    expect(jobs.map((j) => j.index)).toEqual([0, 1, 2, 3]);
    expect(jobs.map((j) => j.pieces.map((p) => [p.offset, p.data.length]))).toEqual([
      [[1000, 24]], [[0, 1024]], [[0, 1024]], [[0, 28]],
    ]);
    expect(jobs.map((j) => j.bytes)).toEqual([24, 1024, 1024, 28]);
  });

  it('groups the extents of each chunk in offset order, chunks by index', () => {
    const b = new WriteBuffer(C);
    b.insert(5 * C + 10, Buffer.alloc(5, 5));
    b.insert(10, Buffer.alloc(5, 1));
    b.insert(5 * C + 0, Buffer.alloc(5, 4));
    b.insert(500, Buffer.alloc(5, 2));
    const jobs = b.chunkJobs();
    expect(jobs.map((j) => j.index)).toEqual([0, 5]);
    expect(jobs[0]!.pieces.map((p) => p.offset)).toEqual([10, 500]);
    expect(jobs[1]!.pieces.map((p) => p.offset)).toEqual([0, 10]);
  });

  it('lets later writes win, also across a chunk boundary', () => {
    const b = new WriteBuffer(C);
    b.insert(C - 100, Buffer.alloc(200, 1));
    b.insert(C - 10, Buffer.alloc(20, 2));
    expect(b.bytes).toBe(200);
    const out = Buffer.alloc(200, 0xff);
    b.overlay(C - 100, out);
    expect(out.subarray(0, 90).every((x) => x === 1)).toBe(true);
    expect(out.subarray(90, 110).every((x) => x === 2)).toBe(true);
    expect(out.subarray(110).every((x) => x === 1)).toBe(true);
  });

  it('overlays only dirty bytes and leaves the rest of the target alone', () => {
    const b = new WriteBuffer(C);
    b.insert(2 * C + 1, Buffer.from([7, 8]));
    const out = Buffer.alloc(3 * C, 0xaa);
    b.overlay(0, out);
    expect(out[2 * C]).toBe(0xaa);
    expect(out[2 * C + 1]).toBe(7);
    expect(out[2 * C + 2]).toBe(8);
    expect(out[2 * C + 3]).toBe(0xaa);
    expect(out.filter((x) => x !== 0xaa).length).toBe(2);
  });

  it('ignores empty writes', () => {
    const b = new WriteBuffer(C);
    b.insert(5000, Buffer.alloc(0));
    expect(b.isEmpty).toBe(true);
    expect(b.end).toBe(0);
  });
});
