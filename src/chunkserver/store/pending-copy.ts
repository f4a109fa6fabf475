/**
 * A chunk copy arriving from a peer (CopyChunk), written to `.tmp` files beside the final ones until
 * ChunkStore.install renames it into place. Only one copy of a chunk is in progress at a time.
 */
import { unlink } from 'node:fs/promises';
import type { ChunkFile } from './chunk-file.js';
import type { DataDisk } from './disk-space.js';

export class PendingCopy {
  private done = false;

  constructor(readonly disk: DataDisk, readonly file: ChunkFile, private readonly release: () => void) {}

  /** Writes received bytes (ENOSPC before anything is written when the disk is full). */
  async write(offset: number, data: Uint8Array): Promise<void> {
    await this.disk.reserve(data.length);
    await this.file.write(offset, data);
  }

  /** Sizes the copy to the source's length (a trailing hole is never sent as data). */
  async setLength(length: number): Promise<void> {
    await this.file.truncate(length);
  }

  /** Marks the copy finished; false when it already was (installed or aborted). */
  claim(): boolean {
    if (this.done) return false;
    this.done = true;
    this.release();
    return true;
  }

  /** Drops the temporary files (after a failure, installing included). */
  async abort(): Promise<void> {
    this.claim();
    await this.file.close().catch(() => undefined);
    await Promise.allSettled([unlink(this.file.paths.data), unlink(this.file.paths.meta)]);
  }
}
