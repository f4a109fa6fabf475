/**
 * Free space of the data directories. statfs is cached for a second and the bytes written since
 * are subtracted from the cached figure, so checking space before every write costs no syscall;
 * a write that would eat into the reserve fails with ENOSPC before it touches the chunk.
 */
import { stat, statfs } from 'node:fs/promises';
import { FsError } from '../../common/errors/errno.js';

const REFRESH_MS = 1_000;

export interface SpaceTotals {
  capacityBytes: number;
  freeBytes: number;
}

/** One data directory (usually one disk). */
export class DataDisk {
  capacityBytes = 0;
  /** Bytes available to this (unprivileged) process, minus what was written since the last statfs. */
  freeBytes = 0;
  /** st_dev, to count two directories on one filesystem once. */
  device = 0;
  private refreshedAt = 0;
  private refreshing: Promise<void> | undefined;

  constructor(readonly index: number, readonly path: string, private readonly reserveBytes: number) {}

  /** Space new data may still use. */
  get usableBytes(): number {
    return Math.max(0, this.freeBytes - this.reserveBytes);
  }

  async refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const [fs, st] = await Promise.all([statfs(this.path), stat(this.path)]);
        this.capacityBytes = fs.blocks * fs.bsize;
        this.freeBytes = fs.bavail * fs.bsize;
        this.device = st.dev;
        this.refreshedAt = Date.now();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Fails with ENOSPC unless `bytes` more fit; counts them as used until the next statfs. */
  async reserve(bytes: number): Promise<void> {
    if (Date.now() - this.refreshedAt > REFRESH_MS) await this.refresh();
    if (bytes > this.usableBytes) {
      throw new FsError('ENOSPC', `data directory ${this.path}: no space left for ${bytes} bytes (${this.usableBytes} usable)`);
    }
    this.freeBytes -= bytes;
  }
}

export class DataDisks {
  readonly all: DataDisk[];

  constructor(paths: string[], reserveBytes: number) {
    this.all = paths.map((p, i) => new DataDisk(i, p, reserveBytes));
  }

  async refresh(): Promise<void> {
    await Promise.all(this.all.map((d) => d.refresh()));
  }

  get(index: number): DataDisk {
    const d = this.all[index];
    if (!d) throw new FsError('EIO', `no data directory #${index}`);
    return d;
  }

  /**
   * The disk for a new chunk: a random pick weighted by usable space, so that disks fill evenly
   * and parallel creations do not all land on the emptiest one. ENOSPC when every disk is full.
   */
  pick(): DataDisk {
    const total = this.all.reduce((s, d) => s + d.usableBytes, 0);
    if (total <= 0) throw new FsError('ENOSPC', 'no space left in any data directory');
    let r = Math.random() * total;
    for (const d of this.all) {
      r -= d.usableBytes;
      if (r < 0) return d;
    }
    return this.all.find((d) => d.usableBytes > 0) ?? this.get(0);
  }

  /** Capacity and free space, counting each filesystem once. */
  totals(): SpaceTotals {
    const seen = new Set<number>();
    let capacityBytes = 0;
    let freeBytes = 0;
    for (const d of this.all) {
      if (seen.has(d.device)) continue;
      seen.add(d.device);
      capacityBytes += d.capacityBytes;
      freeBytes += Math.max(0, d.freeBytes);
    }
    return { capacityBytes, freeBytes };
  }
}
