/**
 * The namespace the master-scale benchmark grows: directories of FILES_PER_DIR regular files
 * (/d000123/f000456, size 0), made with Mkdir and Mknod through MetaClients with many calls in
 * flight. File k is entry k % FILES_PER_DIR of directory k / FILES_PER_DIR; the inode numbers the
 * master answered are kept (4 bytes per file), so lookups and GetAttr can pick any existing file.
 */
import type { MetaClient } from '../../src/client/meta-client.js';
import { fst } from '../../src/client/types.js';

export const FILES_PER_DIR = 1000;
export const dirName = (d: number): string => `d${String(d).padStart(6, '0')}`;
export const fileName = (f: number): string => `f${String(f).padStart(6, '0')}`;
const ROOT = 1;

export interface GrowOptions {
  inFlight: number;
  /** performance.now() after which no new create starts (the step then ends short of its target). */
  deadline?: number;
  /** Called every `progressMs` with the files created so far. */
  onProgress?: (files: number) => void;
  progressMs?: number;
}

export interface GrowResult {
  /** Files and directories this call created. */
  files: number;
  dirs: number;
  seconds: number;
  /** The deadline stopped it before the target. */
  cut: boolean;
}

export class ScaleTree {
  /** Inode of file k (0 until created). */
  readonly fileIno: Uint32Array;
  /** Inode of directory d (0 until created). */
  readonly dirIno: Uint32Array;
  /** Files 0 .. count-1 exist. */
  count = 0;
  private readonly pendingDirs = new Map<number, Promise<number>>();

  constructor(private readonly clients: MetaClient[], readonly max: number) {
    this.fileIno = new Uint32Array(max);
    this.dirIno = new Uint32Array(Math.ceil(max / FILES_PER_DIR));
  }

  /** Directories made so far. */
  get dirs(): number {
    return Math.ceil(this.count / FILES_PER_DIR);
  }

  /** The inode of directory `d`, made on first use (concurrent first uses share one Mkdir). */
  private async dir(d: number, client: MetaClient): Promise<number> {
    const known = this.dirIno[d];
    if (known) return known;
    let made = this.pendingDirs.get(d);
    if (!made) {
      made = client.mkdir(ROOT, dirName(d), 0o755).then((r) => {
        if (r.attr.type !== fst.FileType.DIRECTORY) throw new Error(`mkdir ${dirName(d)} answered type ${r.attr.type}`);
        this.dirIno[d] = r.attr.ino;
        this.pendingDirs.delete(d);
        return r.attr.ino;
      });
      this.pendingDirs.set(d, made);
    }
    return made;
  }

  /** Creates files count .. target-1 with `inFlight` calls at once, spread over the clients. */
  async grow(target: number, o: GrowOptions): Promise<GrowResult> {
    if (target > this.max) throw new Error(`target ${target} beyond the tree's ${this.max}`);
    const start = this.count;
    const dirsBefore = this.dirs;
    let next = start;
    let failed = false;
    let cut = false;
    const worker = async (w: number): Promise<void> => {
      const client = this.clients[w % this.clients.length]!;
      while (!failed && next < target) {
        if (o.deadline !== undefined && performance.now() > o.deadline) {
          cut = true;
          return;
        }
        const k = next++;
        try {
          const parent = await this.dir(Math.floor(k / FILES_PER_DIR), client);
          const r = await client.mknod(parent, fileName(k % FILES_PER_DIR), 0o644, { exclusive: true });
          if (!r.created || r.attr.type !== fst.FileType.REGULAR || r.attr.size !== 0) {
            throw new Error(`mknod of file ${k} answered created=${r.created} type=${r.attr.type} size=${r.attr.size}`);
          }
          this.fileIno[k] = r.attr.ino;
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    };
    const t0 = performance.now();
    const timer = o.onProgress ? setInterval(() => o.onProgress?.(next), o.progressMs ?? 15_000) : undefined;
    try {
      await Promise.all(Array.from({ length: o.inFlight }, (_, w) => worker(w)));
    } finally {
      clearInterval(timer);
    }
    // Every index below `next` was taken by a worker that finished it: the files form a prefix.
    this.count = next;
    return { files: next - start, dirs: this.dirs - dirsBefore, seconds: (performance.now() - t0) / 1000, cut };
  }
}
