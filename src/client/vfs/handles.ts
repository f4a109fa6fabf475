/**
 * Open file descriptors of the mount: FUSE's `fh` numbers mapped to the open file they refer to, the
 * access they were opened with, and their own read-ahead state (sequential detection is per
 * descriptor; the writer is per file).
 */
import { FsError } from '../../common/errors/errno.js';
import type { FileReader } from '../read/file-reader.js';
import type { OpenFile } from './open-files.js';

/** What a descriptor may do, from its open flags. */
export interface AccessMode {
  readable: boolean;
  writable: boolean;
  append: boolean;
}

export interface Handle {
  fh: number;
  file: OpenFile;
  access: AccessMode;
  reader: FileReader;
  /** The file generation the reader's cached blocks belong to. */
  readerGeneration: number;
}

export class HandleTable {
  private readonly handles = new Map<number, Handle>();
  private next = 1;

  add(h: Omit<Handle, 'fh'>): Handle {
    // Small numbers, reused once freed, long before wrapping.
    while (this.handles.has(this.next)) this.next = (this.next % 0x7fff_ffff) + 1;
    const handle = { ...h, fh: this.next };
    this.next = (this.next % 0x7fff_ffff) + 1;
    this.handles.set(handle.fh, handle);
    return handle;
  }

  get(fh: number): Handle {
    const h = this.handles.get(fh);
    if (!h) throw new FsError('EBADF', `no open file handle ${fh}`);
    return h;
  }

  remove(fh: number): Handle | undefined {
    const h = this.handles.get(fh);
    this.handles.delete(fh);
    return h;
  }

  get size(): number {
    return this.handles.size;
  }
}
