/**
 * The small-file half of a FileWriter: whether a flight can be one WriteInline of the file's whole
 * content (the file keeps no chunks and, with the flight laid over it, fits the master's inline
 * limit), that write, and the move of an inline file's bytes to chunk 0 when it outgrows the limit.
 *
 * It keeps the content as of the last commit it knows (`InlineBase`): given by the opener (open
 * read it with the attributes; a new file is empty), else asked of the master when first needed. A
 * WriteInline names the ctime of that content, so a change made meanwhile by someone else (another
 * mount writing, a truncate) makes it fail with ESTALE instead of being overwritten: the content is
 * read again and the flight laid over it once more.
 */
import { toFsError } from '../../common/errors/to-errno.js';
import { INLINE_LIMIT } from '../../common/ids.js';
import type { MetaClient } from '../meta-client.js';
import type { Attr, Timespec } from '../types.js';
import type { WriteBuffer } from './write-buffer.js';

/** What is known of a file's content at one commit. */
export interface InlineBase {
  /** The file keeps (or may keep) its data in chunks: no inline write. */
  chunked: boolean;
  /** Its inline bytes (zeros follow up to `size`); empty for a file never written. */
  data: Buffer;
  size: number;
  ctime: Timespec;
}

const EMPTY = Buffer.alloc(0);
/** Writes that lost a race with another writer of the file are retried this often, then go to chunks. */
const MAX_ATTEMPTS = 8;

/** The base of a file whose attributes (and inline bytes, if any) were just read from the master. */
export function baseOf(attr: Attr, inline: Buffer | undefined): InlineBase {
  if (inline) return { chunked: false, data: inline, size: attr.size, ctime: attr.ctime };
  // Neither inline bytes nor a size: nothing was ever written (or all was truncated away).
  return { chunked: attr.size > 0, data: EMPTY, size: attr.size, ctime: attr.ctime };
}

export class InlineWriter {
  /** Once the file keeps chunks, this writer never writes it inline again (until a truncate to 0). */
  private chunked: boolean;

  constructor(
    private readonly meta: MetaClient,
    private readonly ino: number,
    private base: InlineBase | undefined,
  ) {
    this.chunked = base?.chunked === true;
  }

  /** The file is known to keep its data in chunks: flights need no inline decision. */
  get isChunked(): boolean {
    return this.chunked;
  }

  /** Whether `buffer` could make a small enough file (the master's limit is checked by `write`). */
  mayKeep(buffer: WriteBuffer): boolean {
    return !this.chunked && buffer.end <= INLINE_LIMIT && (this.base === undefined || this.base.size <= INLINE_LIMIT);
  }

  private async current(): Promise<InlineBase> {
    if (!this.base) {
      const { attr, inline } = await this.meta.getAttrWithData(this.ino);
      this.base = baseOf(attr, inline);
    }
    return this.base;
  }

  /**
   * Writes the file's content with `buffer` laid over it in one WriteInline; the new attributes and
   * content, or undefined when the file must take chunks instead (too large, or it keeps chunks).
   */
  async write(buffer: WriteBuffer, sync: boolean): Promise<{ attr: Attr; content: Buffer } | undefined> {
    const max = await this.meta.inlineMax();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const base = await this.current();
      if (base.chunked) {
        this.chunked = true;
        return undefined;
      }
      const end = Math.max(base.size, buffer.end);
      if (end > max) return undefined;
      const content = Buffer.alloc(end);
      base.data.copy(content, 0, 0, Math.min(base.data.length, end));
      buffer.overlay(0, content);
      try {
        const attr = await this.meta.writeInline(this.ino, content, { sync, expectCtime: base.ctime });
        this.base = { chunked: false, data: content, size: attr.size, ctime: attr.ctime };
        return { attr, content };
      } catch (e) {
        const code = toFsError(e).code;
        if (code === 'ESTALE') {
          // Changed by someone else since `base`: read it again and lay the flight over that.
          this.base = undefined;
          continue;
        }
        if (code === 'EXDEV' || code === 'EFBIG') {
          this.base = undefined;
          return undefined;
        }
        throw e;
      }
    }
    return undefined;
  }

  /**
   * Before the first chunk flight of a file that may be inline: its inline bytes go into `buffer`
   * at offset 0, under the flight's own writes, so that chunk 0 holds them once the flight commits
   * (the commit drops the inline copy). Must run after the flights before it have committed.
   */
  async moveToChunks(buffer: WriteBuffer): Promise<void> {
    if (this.chunked) return;
    const base = await this.current();
    this.chunked = true;
    this.base = undefined;
    if (base.chunked || base.data.length === 0) return;
    const head = Buffer.from(base.data);
    buffer.overlay(0, head);
    buffer.insert(0, head);
  }

  /** A chunk flight committed: the file keeps chunks. */
  movedToChunks(): void {
    this.chunked = true;
    this.base = undefined;
  }

  /** The file was truncated to `attr.size` by someone: cut to nothing it is empty, else asked again. */
  truncated(attr: Attr): void {
    if (attr.size === 0) {
      this.base = { chunked: false, data: EMPTY, size: 0, ctime: attr.ctime };
      this.chunked = false;
    } else {
      this.base = undefined;
    }
  }
}
