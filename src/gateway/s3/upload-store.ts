/**
 * Where an S3 multipart upload lives until it is completed or aborted: a directory
 * `/.fst-gateway/uploads/<uploadId>/` holding `data`, the file the object will become, and
 * `part-<N>` files for parts that could not be written into `data` at once. Records are extended
 * attributes of that directory: `user.fst.upload` (bucket, key, metadata, start), `user.fst.partsize`
 * (the size of part 1: where every later part goes) and `user.fst.part.<N>` per part (size, ETag and
 * where its bytes are), so any gateway of the cluster can go on with an upload another began.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FstClient } from '../../client/fst-client.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { ClusterAccess } from '../client-pool.js';
import { UPLOADS_DIR } from '../store/staging.js';
import { S3Error } from './s3-error.js';

export interface UploadRecord {
  bucket: string;
  key: string;
  contentType?: string;
  userMeta?: Record<string, string>;
  initiated: number;
}

export interface PartRecord {
  number: number;
  size: number;
  etag: string;
  /** Offset of the part's bytes in `data`; null: in `part-<N>`. */
  at: number | null;
  time: number;
}

const UPLOAD_XATTR = 'user.fst.upload';
const PARTSIZE_XATTR = 'user.fst.partsize';
const PART_XATTR = 'user.fst.part.';

export class UploadStore {
  /** Part sizes learned by this gateway (the attribute tells other gateways). */
  private readonly partSizes = new Map<string, number>();

  constructor(private readonly access: ClusterAccess) {}

  private get client(): FstClient {
    return this.access.client;
  }

  dir(id: string): string {
    return `${UPLOADS_DIR}/${id}`;
  }

  dataPath(id: string): string {
    return `${this.dir(id)}/data`;
  }

  sidePath(id: string, n: number): string {
    return `${this.dir(id)}/part-${n}`;
  }

  async create(rec: UploadRecord): Promise<string> {
    await this.access.staging.ensure();
    const id = randomBytes(16).toString('hex');
    await this.client.mkdir(this.dir(id), 0o700);
    await this.client.setxattr(this.dir(id), UPLOAD_XATTR, JSON.stringify(rec));
    const h = await this.client.open(this.dataPath(id), { create: true, exclusive: true, write: true }, 0o644);
    await h.close();
    return id;
  }

  /** The upload's record; NoSuchUpload when it is gone or belongs to another object. */
  async get(id: string, bucket?: string, key?: string): Promise<UploadRecord> {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new S3Error('NoSuchUpload', 'no such upload');
    let rec: UploadRecord;
    try {
      rec = JSON.parse((await this.client.getxattr(this.dir(id), UPLOAD_XATTR)).toString('utf8')) as UploadRecord;
    } catch (e) {
      const code = toFsError(e).code;
      if (code === 'ENOENT' || code === 'ENODATA') throw new S3Error('NoSuchUpload', 'the upload does not exist: it was completed, aborted or never made');
      throw e;
    }
    if ((bucket !== undefined && rec.bucket !== bucket) || (key !== undefined && rec.key !== key)) {
      throw new S3Error('NoSuchUpload', 'the upload belongs to another key');
    }
    return rec;
  }

  /** The size of part 1 if known: every part N is then written at (N-1) x it. */
  async partSize(id: string): Promise<number | undefined> {
    const known = this.partSizes.get(id);
    if (known !== undefined) return known;
    const raw = await this.client.getxattr(this.dir(id), PARTSIZE_XATTR).catch((e: unknown) => {
      if (toFsError(e).code === 'ENODATA') return undefined; // no part 1 yet
      throw e;
    });
    const size = raw === undefined ? undefined : Number(raw.toString('utf8'));
    if (size !== undefined && Number.isSafeInteger(size)) this.partSizes.set(id, size);
    return size;
  }

  async setPartSize(id: string, size: number): Promise<void> {
    this.partSizes.set(id, size);
    await this.client.setxattr(this.dir(id), PARTSIZE_XATTR, String(size));
  }

  newEtag(id: string, n: number, size: number): string {
    return `"${createHash('sha1').update(`${id}:${n}:${size}:${Date.now()}:${randomBytes(4).toString('hex')}`).digest('hex').slice(0, 32)}"`;
  }

  async recordPart(id: string, p: PartRecord): Promise<void> {
    await this.client.setxattr(this.dir(id), `${PART_XATTR}${p.number}`, JSON.stringify(p));
  }

  async forgetPart(id: string, n: number): Promise<void> {
    // Must not fail quietly: a record left behind would vouch for bytes about to be overwritten.
    await this.client.removexattr(this.dir(id), `${PART_XATTR}${n}`).catch((e: unknown) => {
      if (toFsError(e).code !== 'ENODATA') throw e;
    });
  }

  async parts(id: string): Promise<PartRecord[]> {
    const names = (await this.client.listxattr(this.dir(id))).filter((n) => n.startsWith(PART_XATTR));
    const parts = await Promise.all(names.map(async (n) => JSON.parse((await this.client.getxattr(this.dir(id), n)).toString('utf8')) as PartRecord));
    return parts.sort((a, b) => a.number - b.number);
  }

  async remove(id: string): Promise<void> {
    this.partSizes.delete(id);
    await this.client.rm(this.dir(id), { recursive: true });
  }

  /** Every upload this access can see, with its record. */
  async list(): Promise<{ id: string; rec: UploadRecord }[]> {
    let entries;
    try {
      entries = await this.client.readdir(UPLOADS_DIR);
    } catch (e) {
      if (toFsError(e).code === 'ENOENT') return [];
      throw e;
    }
    // An upload completed or aborted meanwhile is no longer listed; any other failure is the caller's.
    const all = await Promise.all(entries.map(async (e) => ({ id: e.name, rec: await this.get(e.name).catch((err: unknown) => {
      if (err instanceof S3Error && err.code === 'NoSuchUpload') return undefined;
      throw err;
    }) })));
    return all.filter((u): u is { id: string; rec: UploadRecord } => u.rec !== undefined);
  }
}
