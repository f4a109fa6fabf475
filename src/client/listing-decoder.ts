/**
 * A hand-written decoder for the listings the master sends (ReaddirResponse, ReaddirManyResponse),
 * the counterpart of common/rpc/listing-encoder.ts. A tree walk decodes every entry of every
 * directory it reads; protobufjs builds a message object per entry, per Attr and per Timespec
 * (and a 64-bit helper per uint64), and the client then copied each into its own plain shape
 * (types.ts): about a fifth of fst-mount's CPU in a cold `find`, and much of its garbage. This one
 * reads the wire format straight into DirEntry and Attr, once. It reads master.proto's messages as
 * any proto3 decoder does: fields in any order, absent ones at their defaults, unknown ones
 * skipped, repeated scalars packed or not; test/unit/listing-decoder.test.ts checks it against
 * protobufjs. Malformed bytes are a protocol error (EIO), as a 64-bit value past 2^53 is.
 */
import { FsError } from '../common/errors/errno.js';
import type { ReaddirManyResult, ReaddirPage } from './meta-client.js';
import { fst, type Attr, type DirEntry, type Timespec } from './types.js';

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

const malformed = (what: string): FsError => new FsError('EIO', `malformed ${what} from the master`);

class Reader {
  pos = 0;
  /** Where the message being read ends: nothing in it may be read past. */
  limit: number;

  constructor(readonly buf: Buffer) {
    this.limit = buf.length;
  }

  /** A length-delimited message read by `read`, which must end exactly where its length says. */
  message<T>(read: (r: Reader) => T): T {
    const end = this.sub();
    const outer = this.limit;
    this.limit = end;
    const value = read(this);
    if (this.pos !== end) throw malformed('message');
    this.limit = outer;
    return value;
  }

  /** An unsigned varint up to 2^53, or (`signed`) an int64 (a time before 1970: ten bytes). */
  varint(signed = false): number {
    const { buf } = this;
    if (this.pos >= this.limit) throw malformed('varint');
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    const start = this.pos - 1;
    let value = b & 0x7f;
    let scale = 0x80;
    for (let i = 1; i < 10; i++) {
      if (this.pos >= this.limit) throw malformed('varint');
      b = buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (Number.isSafeInteger(value)) return value;
        if (signed && i === 9) return this.int64From(start);
        throw malformed('64-bit value (past 2^53)');
      }
      scale *= 0x80;
    }
    throw malformed('varint');
  }

  /** The exact value of a ten-byte int64 varint at `start` (negative). */
  private int64From(start: number): number {
    let v = 0n;
    for (let i = 0; i < 10; i++) v |= BigInt(this.buf[start + i]! & 0x7f) << BigInt(7 * i);
    const n = Number(BigInt.asIntN(64, v));
    if (!Number.isSafeInteger(n)) throw malformed('64-bit value (past 2^53)');
    return n;
  }

  /** The end of a length-delimited field starting here (its length read). */
  sub(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.limit) throw malformed('length');
    return end;
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.pos += 8;
    else if (wire === LEN) this.pos = this.sub();
    else if (wire === FIXED32) this.pos += 4;
    else throw malformed(`wire type ${wire}`);
    if (this.pos > this.limit) throw malformed('field');
  }
}

function timespec(r: Reader): Timespec {
  const t = { sec: 0, nsec: 0 };
  while (r.pos < r.limit) {
    const tag = r.varint();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === VARINT) t.sec = r.varint(true);
    else if (field === 2 && (tag & 7) === VARINT) t.nsec = r.varint();
    else r.skip(tag & 7);
  }
  return t;
}

function attr(r: Reader): Attr {
  const a: Attr = {
    ino: 0, type: fst.FileType.FILE_TYPE_UNSPECIFIED, mode: 0, uid: 0, gid: 0, nlink: 0, size: 0,
    atime: ZERO, mtime: ZERO, ctime: ZERO, rdev: 0, replication: 0, hasXattrs: false, changeSeq: 0,
  };
  while (r.pos < r.limit) {
    // Cases are tags as on the wire: field number << 3 | wire type.
    const t = r.varint();
    switch (t) {
      case 8: /* 1, varint */ a.ino = r.varint(); break;
      case 16: /* 2, varint */ a.type = r.varint(); break;
      case 24: /* 3, varint */ a.mode = r.varint(); break;
      case 32: /* 4, varint */ a.uid = r.varint(); break;
      case 40: /* 5, varint */ a.gid = r.varint(); break;
      case 48: /* 6, varint */ a.nlink = r.varint(); break;
      case 56: /* 7, varint */ a.size = r.varint(); break;
      case 66: /* 8, len */ a.atime = r.message(timespec); break;
      case 74: /* 9, len */ a.mtime = r.message(timespec); break;
      case 82: /* 10, len */ a.ctime = r.message(timespec); break;
      case 88: /* 11, varint */ a.rdev = r.varint(); break;
      case 96: /* 12, varint */ a.replication = r.varint(); break;
      case 104: /* 13, varint */ a.hasXattrs = r.varint() !== 0; break;
      case 112: /* 14, varint */ a.changeSeq = r.varint(); break;
      default: r.skip(t & 7);
    }
  }
  // Each absent time is a fresh object: callers may keep and compare them, never change them.
  if (a.atime === ZERO) a.atime = { sec: 0, nsec: 0 };
  if (a.mtime === ZERO) a.mtime = { sec: 0, nsec: 0 };
  if (a.ctime === ZERO) a.ctime = { sec: 0, nsec: 0 };
  return a;
}

const ZERO: Timespec = Object.freeze({ sec: 0, nsec: 0 });

function dirEntry(r: Reader): DirEntry {
  const e: DirEntry = { name: '', ino: 0, type: fst.FileType.FILE_TYPE_UNSPECIFIED };
  while (r.pos < r.limit) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === LEN) {
      const stop = r.sub();
      e.name = r.buf.toString('utf8', r.pos, stop);
      r.pos = stop;
    } else if (field === 2 && wire === VARINT) e.ino = r.varint();
    else if (field === 3 && wire === VARINT) e.type = r.varint();
    else if (field === 4 && wire === LEN) e.attr = r.message(attr);
    else r.skip(wire);
  }
  return e;
}

function page(r: Reader): ReaddirPage {
  const p: ReaddirPage = { entries: [], more: false, changeSeq: 0 };
  while (r.pos < r.limit) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === LEN) p.entries.push(r.message(dirEntry));
    else if (field === 2 && wire === VARINT) p.more = r.varint() !== 0;
    else if (field === 3 && wire === VARINT) p.changeSeq = r.varint();
    else r.skip(wire);
  }
  return p;
}

/** A DirListing: its directory and its page (none when absent). */
function listing(r: Reader): { ino: number; page?: ReaddirPage } {
  const l: { ino: number; page?: ReaddirPage } = { ino: 0 };
  while (r.pos < r.limit) {
    const t = r.varint();
    if (t === 8 /* 1, varint */) l.ino = r.varint();
    else if (t === 18 /* 2, len */) l.page = r.message(page);
    else r.skip(t & 7);
  }
  return l;
}

/** A ReaddirResponse's bytes as a page of DirEntry. */
export function decodeReaddirPage(bytes: Buffer): ReaddirPage {
  return page(new Reader(bytes));
}

/** A ReaddirManyResponse's bytes as pages by directory, and the directories left unlisted. */
export function decodeReaddirManyPages(bytes: Buffer): ReaddirManyResult {
  const r = new Reader(bytes);
  const res: ReaddirManyResult = { pages: new Map(), unlisted: [] };
  while (r.pos < r.limit) {
    const tag = r.varint();
    if (tag === 10 /* 1, len */) {
      const l = r.message(listing);
      if (l.page) res.pages.set(l.ino, l.page);
    } else if (tag === 18 /* 2, len: packed */) {
      r.message((m) => {
        while (m.pos < m.limit) res.unlisted.push(m.varint());
      });
    } else if (tag === 16 /* 2, varint */) {
      res.unlisted.push(r.varint());
    } else {
      r.skip(tag & 7);
    }
  }
  return res;
}
