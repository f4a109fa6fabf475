/** Test data helpers: random files written and hashed in streams, chunk files found on disk. */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes `size` random bytes to `path` in 8 MiB pieces; returns the sha256. */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    for (let done = 0; done < size; ) {
      const piece = randomBytes(Math.min(8 << 20, size - done));
      hash.update(piece);
      await fh.write(piece, 0, piece.length, done);
      done += piece.length;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest('hex');
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Chunk ids whose data files lie in a chunkserver data directory (<dir>/chunks/<xx>/<id>.chunk). */
export async function chunkIdsOnDisk(dataDir: string): Promise<number[]> {
  const ids: number[] = [];
  const root = join(dataDir, 'chunks');
  for (const sub of await readdir(root).catch(() => [] as string[])) {
    for (const f of await readdir(join(root, sub))) {
      const m = /^(\d+)\.chunk$/.exec(f);
      if (m) ids.push(Number(m[1]));
    }
  }
  return ids.sort((a, b) => a - b);
}
