/**
 * Buckets are the top-level directories of what the access key's credential sees (names starting
 * with '.' are not buckets: the gateway's own staging directory is one). ListBuckets lists them,
 * CreateBucket makes one (mode 0755, owned by the key's caller), DeleteBucket removes an empty one.
 */
import { toFsError } from '../../common/errors/to-errno.js';
import { readSmallBody } from '../http/small-body.js';
import { bodyChecks } from './body-check.js';
import { S3Error } from './s3-error.js';
import { checkBucket, client, mustWrite, sendEmpty, sendXml, type S3Request } from './s3-request.js';
import { checkNewBucketName } from './s3-target.js';

export const OWNER = { ID: 'fst', DisplayName: 'fst' };

export async function listBuckets(r: S3Request): Promise<void> {
  const entries = await client(r).readdir('/', { withAttrs: true });
  const buckets = entries
    .filter((e) => e.kind === 'directory' && !e.name.startsWith('.'))
    .map((e) => ({ Name: e.name, CreationDate: new Date(e.stat?.ctimeMs ?? 0).toISOString() }));
  sendXml(r, 200, 'ListAllMyBucketsResult', { Owner: OWNER, Buckets: { Bucket: buckets } });
}

/** HeadBucket; with `checkOnly` just throws NoSuchBucket when missing. */
export async function headBucket(r: S3Request, checkOnly: boolean): Promise<void> {
  await checkBucket(r);
  if (!checkOnly) sendEmpty(r, 200, { 'x-amz-bucket-region': 'us-east-1' });
}

export async function createBucket(r: S3Request): Promise<void> {
  mustWrite(r);
  checkNewBucketName(r.bucket);
  // A CreateBucketConfiguration (the region) may come along; FST has one region.
  await readSmallBody(r.req, 64 * 1024, bodyChecks(r.req.headers, r.principal.signature));
  try {
    await client(r).mkdir(`/${r.bucket}`, 0o755);
  } catch (e) {
    if (toFsError(e).code === 'EEXIST') throw new S3Error('BucketAlreadyOwnedByYou', `bucket '${r.bucket}' already exists`, { resource: `/${r.bucket}` });
    throw e;
  }
  sendEmpty(r, 200, { location: `/${r.bucket}` });
}

export async function deleteBucket(r: S3Request): Promise<void> {
  mustWrite(r);
  try {
    await client(r).rmdir(`/${r.bucket}`);
  } catch (e) {
    const code = toFsError(e).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new S3Error('NoSuchBucket', `bucket '${r.bucket}' does not exist`, { resource: `/${r.bucket}` });
    if (code === 'ENOTEMPTY') throw new S3Error('BucketNotEmpty', `bucket '${r.bucket}' is not empty`, { resource: `/${r.bucket}` });
    throw e;
  }
  sendEmpty(r, 204);
}
