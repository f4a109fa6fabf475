/**
 * The scrubber: re-reads every chunk and verifies its block checksums, so that a copy rotting on a
 * disk nobody reads is found (and quarantined, see corrupt.ts) while healthy replicas remain to
 * copy it from. It reads at most `rateBytes` per second and takes a chunk's lock for one slice
 * (1 MiB) at a time, so writes to the chunk wait for one slice at most. After a full pass it rests
 * `intervalMs` before the next.
 *
 * A pass covers the chunks held when it starts: a chunk created meanwhile waits for the next pass,
 * one deleted meanwhile is skipped, one that grows or shrinks is read up to its current length.
 */
import { rest } from '../../common/lifecycle/rest.js';
import type { Logger } from '../../common/log/logger.js';
import type { ChunkStore } from './chunk-store.js';
import { ChunkCorruptError } from './corrupt.js';
import { META_FILE_BYTES } from './meta-file.js';

export interface ScrubberOptions {
  /** Most bytes read per second; 0 disables the scrubber. */
  rateBytes: number;
  /** Rest between the end of a pass and the start of the next, in ms. */
  intervalMs: number;
}

/** Bytes verified per lock hold. */
export const SCRUB_SLICE_BYTES = 1024 * 1024;
/** Shortest rest between passes, so that an empty store with interval 0 does not spin. */
const MIN_REST_MS = 100;
/** Reading later than the rate allows never earns more than this much of a burst. */
const MAX_CREDIT_MS = 1_000;

export interface PassSummary {
  chunks: number;
  bytes: number;
  corrupt: number;
  ms: number;
}

export class Scrubber {
  private readonly ac = new AbortController();
  private running: Promise<void> | undefined;
  /** Completed passes (for tests and diagnostics). */
  passes = 0;

  constructor(private readonly store: ChunkStore, private readonly o: ScrubberOptions, private readonly log: Logger) {}

  start(): void {
    if (this.o.rateBytes <= 0 || this.running) return;
    this.running = this.loop().catch((err: unknown) => this.log.error('scrubber stopped by an error', { err }));
  }

  /** Stops after the slice being read; resolves once nothing runs. */
  async stop(): Promise<void> {
    this.ac.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const signal = this.ac.signal;
    while (!signal.aborted) {
      const s = await this.pass(signal);
      if (signal.aborted) return;
      this.passes++;
      this.log.info('scrub pass done', { ...s });
      await rest(Math.max(MIN_REST_MS, this.o.intervalMs), signal);
    }
  }

  /** One pass over the chunks held now. */
  async pass(signal: AbortSignal): Promise<PassSummary> {
    const started = performance.now();
    const s: PassSummary = { chunks: 0, bytes: 0, corrupt: 0, ms: 0 };
    // `due` is when the bytes read so far may have been read at the allowed rate.
    let due = started;
    const pace = async (bytes: number): Promise<void> => {
      const now = performance.now();
      due = Math.max(due, now - MAX_CREDIT_MS) + (bytes / this.o.rateBytes) * 1000;
      if (due > now) await rest(due - now, signal);
    };
    for (const chunkId of [...this.store.index.ids()]) {
      if (signal.aborted) break;
      let offset = 0;
      try {
        for (;;) {
          const length = await this.store.verify(chunkId, offset, SCRUB_SLICE_BYTES);
          if (length === undefined) break; // deleted since the pass began
          if (offset === 0) s.chunks++;
          const read = Math.max(0, Math.min(SCRUB_SLICE_BYTES, length - offset));
          s.bytes += read;
          // The meta file is read when a chunk is opened: count it, so empty chunks cost time too.
          await pace(read + (offset === 0 ? META_FILE_BYTES : 0));
          offset += SCRUB_SLICE_BYTES;
          if (offset >= length || signal.aborted) break;
        }
      } catch (err) {
        // The store has quarantined a corrupt copy and logged it; anything else is a plain I/O
        // failure, left for the next pass (and for the readers, who get EIO and try elsewhere).
        if (err instanceof ChunkCorruptError) s.corrupt++;
        else this.log.warn('scrub read failed', { chunkId, offset, err });
      }
    }
    s.ms = Math.round(performance.now() - started);
    return s;
  }
}

