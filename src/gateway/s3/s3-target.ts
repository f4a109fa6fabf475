/**
 * Bucket and key of a path-style S3 URL. Keys map to FST paths below the bucket's directory, so a
 * key with an empty, `.` or `..` segment, a NUL, or a segment longer than a name may be (255 bytes)
 * cannot be stored and is refused (InvalidArgument / KeyTooLongError); a trailing `/` is kept (a
 * directory marker). Keys are at most 1,024 bytes, as S3's.
 */
import { NAME_MAX } from '../../common/ids.js';
import { percentDecode } from '../http/percent-decode.js';
import { S3Error } from './s3-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_KEY_BYTES = 1024;

function decode(raw: string): string {
  try {
    return utf8.decode(percentDecode(raw, true));
  } catch {
    throw new S3Error('InvalidArgument', 'the URL is not valid percent-encoded UTF-8');
  }
}

/** Checks that `key` can name a file below a bucket; returns it. */
export function checkKey(key: string): string {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', `keys are at most ${MAX_KEY_BYTES} bytes`);
  const segments = (key.endsWith('/') ? key.slice(0, -1) : key).split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.includes('\0')) {
      throw new S3Error('InvalidArgument', `key '${key.slice(0, 128)}' has an empty, '.' or '..' segment or a NUL: such keys cannot be stored as paths`);
    }
    if (Buffer.byteLength(s) > NAME_MAX) throw new S3Error('KeyTooLongError', `a segment of key '${key.slice(0, 64)}...' is over ${NAME_MAX} bytes`);
  }
  return key;
}

export function checkBucketName(name: string): string {
  if (name.startsWith('.') || name.includes('\0') || Buffer.byteLength(name) > NAME_MAX) throw new S3Error('InvalidBucketName', `'${name.slice(0, 64)}' is not a bucket name`);
  return name;
}

/** Rules for new buckets (CreateBucket): S3's DNS-compatible names. */
export function checkNewBucketName(name: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new S3Error('InvalidBucketName', `'${name.slice(0, 64)}' is not a valid bucket name: 3-63 lower-case letters, digits, '.' and '-'`);
  }
}

export function parseS3Target(rawPath: string): { bucket: string; key: string } {
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: path === '' ? '' : checkBucketName(decode(path)), key: '' };
  const bucket = checkBucketName(decode(path.slice(0, slash)));
  const rawKey = path.slice(slash + 1);
  return { bucket, key: rawKey === '' ? '' : checkKey(decode(rawKey)) };
}
