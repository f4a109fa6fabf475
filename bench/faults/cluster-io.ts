/**
 * What the fault benchmark does to a cluster and to the local disk: writes deterministic data with
 * 8 MiB calls (timing every call), reads a file back and hashes it, waits until every chunk is
 * healthy, finds which chunkserver holds what, and copies a local file with fsync (the baseline of
 * re-replication).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { FstClient } from '../../src/client/fst-client.js';
import { createLogger, type Logger } from '../../src/common/log/logger.js';
import { adminStatus, type StatusJson } from '../../test/helpers/cli.js';
import { chunkIdsOnDisk } from '../../test/helpers/files.js';
import type { ProcessCluster } from '../../test/helpers/process-cluster.js';
import { sleep } from '../mount/system.js';
import { loadCredentialsFor } from '../../test/helpers/credentials.js';

export const MiB = 1024 * 1024;
export const IO = 8 * MiB;
export const mbps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);

// 75 MiB of random bytes read from offset `pos % 67 MiB`: no two 64 MiB chunks hold the same bytes,
// so a chunk read back in the wrong place changes the sha256.
const pattern = randomBytes(75 * MiB);
/** The (at most 8 MiB) written at byte `pos` of the benchmark's data stream. */
export const piece = (pos: number, length = IO): Buffer => pattern.subarray(pos % (67 * MiB), (pos % (67 * MiB)) + Math.min(IO, length));

/** sha256 of `bytes` of the data stream from `base`, as `writeData` writes it. */
export function expectedSha(bytes: number, base = 0): string {
  const h = createHash('sha256');
  for (let off = 0; off < bytes; off += IO) h.update(piece(base + off, bytes - off));
  return h.digest('hex');
}

export interface WriteResult {
  /** open to close, close included (close returns once every replica fsynced). */
  ms: number;
  /** The longest single write call. */
  maxCallMs: number;
  closeMs: number;
}

/**
 * Writes `bytes` of the data stream (from `base`) to a new file with 8 MiB calls, then closes it.
 * `hook.fn` runs (inside the timing) once the calls have written `hook.at` bytes.
 */
export async function writeData(client: FstClient, path: string, bytes: number, base = 0,
  hook?: { at: number; fn: () => Promise<void> }): Promise<WriteResult> {
  const t0 = performance.now();
  const h = await client.open(path, { create: true, write: true, truncate: true });
  let maxCallMs = 0;
  let hooked = false;
  for (let off = 0; off < bytes; off += IO) {
    const c = performance.now();
    await h.write(off, piece(base + off, bytes - off));
    maxCallMs = Math.max(maxCallMs, performance.now() - c);
    if (hook && !hooked && off + IO >= hook.at) {
      hooked = true;
      await hook.fn();
    }
  }
  const c = performance.now();
  await h.close();
  const end = performance.now();
  return { ms: end - t0, maxCallMs, closeMs: end - c };
}

/** Reads a whole file with 8 MiB calls; the clock stops before the bytes are hashed. */
export async function readBack(client: FstClient, path: string): Promise<{ ms: number; bytes: number; sha: string }> {
  const t0 = performance.now();
  const h = await client.open(path, { read: true });
  const parts: Buffer[] = [];
  for (let off = 0; ; ) {
    const part = await h.read(off, IO);
    if (part.length === 0) break;
    parts.push(part);
    off += part.length;
  }
  await h.close();
  const ms = performance.now() - t0;
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return { ms, bytes: parts.reduce((a, p) => a + p.length, 0), sha: hash.digest('hex') };
}

/** Runs `fn` with a connected client of the cluster (logging to `logger`), closed afterwards. */
export async function withClient<T>(cluster: ProcessCluster, fn: (c: FstClient) => Promise<T>, logger?: Logger): Promise<T> {
  const client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress, logger });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** A client logger that only counts its warnings containing `text`. */
export function countingLogger(text: string): { logger: Logger; count: () => number } {
  let n = 0;
  const logger = createLogger('bench-client', 'warn', {}, (line) => void (line.includes(text) && n++));
  return { logger, count: () => n };
}

export const allHealthy = (s: StatusJson, chunks: number): boolean =>
  s.chunks === chunks && s.health.healthy === chunks && s.health.underReplicated === 0 && s.health.missing === 0;

/**
 * Polls `fstadmin status` every `pollMs` until every one of `chunks` chunks is healthy. `at` is when
 * the answer that said so came back, `firstCopyAt` when a copy was first seen under way or done
 * (both in performance.now() time), `polls` how many status calls it took.
 */
export async function waitHealthy(master: string, chunks: number, timeoutMs: number, pollMs = 200):
  Promise<{ status: StatusJson; at: number; firstCopyAt: number | undefined; polls: number }> {
  const deadline = performance.now() + timeoutMs;
  let firstCopyAt: number | undefined;
  for (let polls = 1; ; polls++) {
    const status = await adminStatus(master);
    const at = performance.now();
    if (firstCopyAt === undefined && (status.replication.inFlight > 0 || status.replication.copied > 0)) firstCopyAt = at;
    if (allHealthy(status, chunks)) return { status, at, firstCopyAt, polls };
    if (at > deadline) throw new Error(`chunks not all healthy after ${timeoutMs} ms: ${JSON.stringify(status.health)}`);
    await sleep(pollMs);
  }
}

/** Chunk ids on each chunkserver's disk, by chunkserver index. */
export const chunksOnDisk = (cluster: ProcessCluster): Promise<number[][]> =>
  Promise.all(cluster.chunkservers.map((cs) => chunkIdsOnDisk(cs.dataDir)));

/** The index of the first chunkserver holding the newest chunk (the one being written). */
export async function newestChunkHolder(cluster: ProcessCluster): Promise<number> {
  const newest = (await chunksOnDisk(cluster)).map((ids) => ids.at(-1) ?? -1);
  return newest.indexOf(Math.max(...newest));
}

/** Copies `src` to `dst` (8 MiB reads and writes) and fsyncs it; returns the bytes copied. */
export async function copyWithFsync(src: string, dst: string): Promise<number> {
  const out = await open(dst, 'w');
  let bytes = 0;
  try {
    for await (const part of createReadStream(src, { highWaterMark: IO })) {
      const b = part as Buffer;
      await out.write(b, 0, b.length, bytes);
      bytes += b.length;
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return bytes;
}

/** Writes `bytes` of the data stream to a local file, with fsync (not timed: the copy's source). */
export async function writeLocal(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    for (let off = 0; off < bytes; off += IO) {
      const p = piece(off, bytes - off);
      await fh.write(p, 0, p.length, off);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
