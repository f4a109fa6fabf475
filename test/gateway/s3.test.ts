/**
 * The S3 API against a real gateway and cluster, with a real client library (@aws-sdk/client-s3,
 * at its defaults: flexible checksums, aws-chunked bodies) and with `curl --aws-sigv4`: buckets,
 * objects, ranges, listings with delimiters and paging across more than 1,000 keys, a multipart
 * upload of 3 parts of 8 MiB, copies, presigned URLs, and signatures that must be refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand,
  ListBucketsCommand, ListObjectsV2Command, ListPartsCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/files.js';
import { sh } from '../helpers/fuse-mount.js';
import { curl, GatewayCluster, KEY, READ_ONLY_KEY } from '../helpers/gateway.js';

const MiB = 1024 * 1024;

function s3For(url: string, key = KEY): S3Client {
  return new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: key.id, secretAccessKey: key.secret } });
}

/** The S3 error name a failing call gives. */
async function s3Error(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e.name;
    throw e;
  }
  return 'no error';
}

describe('fst-gateway S3 API', () => {
  let gc: GatewayCluster;
  let s3: S3Client;
  let local: string;

  beforeAll(async () => {
    gc = await GatewayCluster.start({ mount: true });
    s3 = s3For(gc.url);
    local = await mkdtemp(join(tmpdir(), 'fst-s3-local-'));
  });
  afterAll(async () => {
    s3?.destroy();
    await gc?.stop();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('creates, lists, heads and deletes buckets', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    await s3.send(new HeadBucketCommand({ Bucket: 'alpha' }));
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    expect(names).toContain('alpha');
    expect(names).not.toContain('.fst-gateway');
    expect(await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'alpha' })))).toBe('BucketAlreadyOwnedByYou');
    expect(await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).toBe('InvalidBucketName');
    expect(await s3Error(s3.send(new PutBucketVersioningCommand({ Bucket: 'nover', VersioningConfiguration: { Status: 'Enabled' } })))).toBe('NotImplemented');
    expect(await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'nover' })))).toBe('NotFound');
    expect(await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'missing' })))).toBe('NotFound');
    await s3.send(new PutObjectCommand({ Bucket: 'alpha', Key: 'x', Body: 'x' }));
    expect(await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'alpha' })))).toBe('BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: 'alpha', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'alpha' }));
    expect(await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'alpha' })))).toBe('NotFound');
  });

  it('puts, gets (whole and ranged), heads and deletes objects, with metadata', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
    const data = randomBytes(3 * MiB + 17);
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'dir/sub/blob.bin', Body: data, ContentType: 'application/x-test', Metadata: { color: 'blue' } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/sub/blob.bin' }));
    expect(head.ContentLength).toBe(data.length);
    expect(head.ContentType).toBe('application/x-test');
    expect(head.Metadata).toEqual({ color: 'blue' });
    expect(head.ETag).toBe(put.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/sub/blob.bin' }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(data));
    const part = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/sub/blob.bin', Range: 'bytes=1048570-1048589' }));
    expect(part.ContentRange).toBe(`bytes 1048570-1048589/${data.length}`);
    expect(Buffer.from(await part.Body!.transformToByteArray())).toEqual(data.subarray(1048570, 1048590));
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/sub/blob.bin', Range: `bytes=${data.length}-` })))).toBe('InvalidRange');
    // A stream body goes as aws-chunked with a trailing checksum (the SDK needs its length).
    const streamed = [randomBytes(100_000), randomBytes(70_000)];
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'streamed.bin', Body: Readable.from(streamed), ContentLength: 170_000 }));
    const back = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'streamed.bin' }));
    expect(sha256(Buffer.from(await back.Body!.transformToByteArray()))).toBe(sha256(Buffer.concat(streamed)));
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'streamed.bin' }));
    // The object is an ordinary file for the mount.
    expect(sha256(await readFile(gc.mount!.path('objects/dir/sub/blob.bin')))).toBe(sha256(data));
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'dir/sub/blob.bin' }));
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/sub/blob.bin' })))).toBe('NoSuchKey');
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'k' })))).toBe('NoSuchBucket');
    // Emptied prefixes go with their last object, as in S3.
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'objects' }));
    expect(listed.KeyCount).toBe(0);
  });

  it('lists more than 1,000 keys in pages, and groups them by delimiter', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'many' }));
    // 1,100 files made through the mount (faster than 1,100 PUTs), plus a few prefixes.
    await sh(`cd ${gc.mount!.path('many')} && mkdir -p logs/2026 logs/2027 a && for i in $(seq -w 1 1100); do echo $i > k$i; done && echo x > logs/2026/a && echo y > logs/2027/b && echo z > a-c && echo w > a/b`);
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'many', ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
      pages++;
    } while (token);
    expect(pages).toBe(2);
    expect(keys.length).toBe(1104);
    // S3's order is the keys' byte order: "a-c" (0x2D) before "a/b" (0x2F).
    expect(keys.slice(0, 2)).toEqual(['a-c', 'a/b']);
    expect([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))).toEqual(keys);
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/', Prefix: 'logs/' }));
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['logs/2026/', 'logs/2027/']);
    expect(grouped.Contents ?? []).toEqual([]);
    const small = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/', MaxKeys: 2 }));
    expect([...(small.CommonPrefixes ?? []).map((p) => p.Prefix), ...(small.Contents ?? []).map((c) => c.Key)].sort()).toEqual(['a-c', 'a/']);
    const rest = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/', ContinuationToken: small.NextContinuationToken }));
    expect(rest.Contents?.[0]?.Key).toBe('k0001');
    expect(rest.KeyCount).toBe(1000);
    const last = await s3.send(new ListObjectsV2Command({ Bucket: 'many', Delimiter: '/', ContinuationToken: rest.NextContinuationToken }));
    expect(last.Contents?.map((c) => c.Key)).toEqual(keys.filter((k) => /^k\d+$/.test(k) && k > 'k1000'));
    expect(last.Contents?.length).toBe(100);
    expect(last.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['logs/']);
    expect(last.IsTruncated).toBe(false);
  });

  it('assembles a multipart upload of 3 parts of 8 MiB, lists and aborts uploads', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'multi' }));
    const parts = [randomBytes(8 * MiB), randomBytes(8 * MiB), randomBytes(8 * MiB)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'big/object.bin', ContentType: 'application/x-big' }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'big/object.bin', UploadId, PartNumber: i + 1, Body: body }))).ETag!);
    }
    // Parts of one size went straight where they belong: completing renames that file into place.
    const assembled = await stat(gc.mount!.path(`.fst-gateway/uploads/${UploadId}/data`));
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'multi', Key: 'big/object.bin', UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[1, 8 * MiB], [2, 8 * MiB], [3, 8 * MiB]]);
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'big/object.bin' })))).toBe('NoSuchKey');
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'multi', Key: 'big/object.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }));
    expect((await stat(gc.mount!.path('multi/big/object.bin'))).ino).toBe(assembled.ino);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'big/object.bin' }));
    expect(got.ContentType).toBe('application/x-big');
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(Buffer.concat(parts)));
    expect(await s3Error(s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'big/object.bin', UploadId, PartNumber: 4, Body: 'late' })))).toBe('NoSuchUpload');
    // A wrong ETag, then an abort.
    const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'other' }));
    const e1 = (await s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'other', UploadId: second.UploadId, PartNumber: 1, Body: 'tiny' }))).ETag!;
    expect(await s3Error(s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'multi', Key: 'other', UploadId: second.UploadId, MultipartUpload: { Parts: [{ ETag: '"wrong"', PartNumber: 1 }] },
    })))).toBe('InvalidPart');
    expect(e1).toMatch(/^".+"$/);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'multi', Key: 'other', UploadId: second.UploadId }));
    // Part 1 sent again, larger, after part 2 is in place: part 2's bytes must stay whole.
    const third = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'multi', Key: 'redo' }));
    const [a, b, a2] = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(6 * MiB)];
    const up = (n: number, body: Buffer): Promise<string> =>
      s3.send(new UploadPartCommand({ Bucket: 'multi', Key: 'redo', UploadId: third.UploadId, PartNumber: n, Body: body })).then((r) => r.ETag!);
    await up(1, a);
    const eb = await up(2, b);
    const ea2 = await up(1, a2);
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: 'multi', Key: 'redo', UploadId: third.UploadId, MultipartUpload: { Parts: [{ ETag: ea2, PartNumber: 1 }, { ETag: eb, PartNumber: 2 }] },
    }));
    const redo = await s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'redo' }));
    expect(sha256(Buffer.from(await redo.Body!.transformToByteArray()))).toBe(sha256(Buffer.concat([a2, b])));
    expect(await s3Error(s3.send(new ListPartsCommand({ Bucket: 'multi', Key: 'other', UploadId: second.UploadId })))).toBe('NoSuchUpload');
    expect(await s3Error(s3.send(new GetObjectCommand({ Bucket: 'multi', Key: 'other' })))).toBe('NoSuchKey');
  });

  it('copies objects and deletes several at once', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'copies' }));
    await s3.send(new PutObjectCommand({ Bucket: 'copies', Key: 'src.txt', Body: 'copy me', Metadata: { a: '1' } }));
    await s3.send(new CopyObjectCommand({ Bucket: 'copies', Key: 'dst/copy.txt', CopySource: 'copies/src.txt' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'copies', Key: 'dst/copy.txt' }));
    expect(await got.Body!.transformToString()).toBe('copy me');
    expect(got.Metadata).toEqual({ a: '1' });
    const res = await s3.send(new DeleteObjectsCommand({ Bucket: 'copies', Delete: { Objects: [{ Key: 'src.txt' }, { Key: 'dst/copy.txt' }, { Key: 'never' }] } }));
    expect(res.Deleted?.map((d) => d.Key).sort()).toEqual(['dst/copy.txt', 'never', 'src.txt']);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'copies' }))).KeyCount).toBe(0);
  });

  it('serves presigned GETs and refuses wrong signatures', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'signed' }));
    await s3.send(new PutObjectCommand({ Bucket: 'signed', Key: 'p.txt', Body: 'presigned body' }));
    const link = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'signed', Key: 'p.txt' }), { expiresIn: 300 });
    const ok = await curl([link]);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('presigned body');
    const tampered = await curl([link.replace('p.txt', 'q.txt')]);
    expect(tampered.status).toBe(403);
    expect(tampered.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    const wrong = s3For(gc.url, { id: KEY.id, secret: 'not-the-secret-000000' });
    expect(await s3Error(wrong.send(new GetObjectCommand({ Bucket: 'signed', Key: 'p.txt' })))).toBe('SignatureDoesNotMatch');
    wrong.destroy();
    const unknown = s3For(gc.url, { id: 'AKIDNOBODY', secret: 'whatever-secret-0000' });
    expect(await s3Error(unknown.send(new ListBucketsCommand({})))).toBe('InvalidAccessKeyId');
    unknown.destroy();
    const ro = s3For(gc.url, READ_ONLY_KEY);
    expect(await (await ro.send(new GetObjectCommand({ Bucket: 'signed', Key: 'p.txt' }))).Body!.transformToString()).toBe('presigned body');
    expect(await s3Error(ro.send(new PutObjectCommand({ Bucket: 'signed', Key: 'ro.txt', Body: 'no' })))).toBe('AccessDenied');
    ro.destroy();
    const anon = await curl([`${gc.url}/signed/p.txt`]);
    expect(anon.status).toBe(403);
    expect(anon.body).toContain('<Code>AccessDenied</Code>');
  });

  it('works with curl --aws-sigv4', async () => {
    const sig = ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${KEY.id}:${KEY.secret}`];
    expect((await curl([...sig, '-X', 'PUT', `${gc.url}/curled`])).status).toBe(200);
    await writeFile(join(local, 'c.txt'), 'through curl\n');
    // curl 7.88 signs an empty payload for uploads unless told the payload is unsigned.
    const put = await curl([...sig, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-T', join(local, 'c.txt'), `${gc.url}/curled/dir/c.txt`]);
    expect(put.status).toBe(200);
    const get = await curl([...sig, `${gc.url}/curled/dir/c.txt`]);
    expect(get.status).toBe(200);
    expect(get.body).toBe('through curl\n');
    const list = await curl([...sig, `${gc.url}/curled?list-type=2&prefix=dir/`]);
    expect(list.body).toContain('<Key>dir/c.txt</Key>');
    const bad = await curl(['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${KEY.id}:wrong-secret-00000000`, `${gc.url}/curled/dir/c.txt`]);
    expect(bad.status).toBe(403);
    expect(bad.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect((await curl([...sig, '-X', 'DELETE', `${gc.url}/curled/dir/c.txt`])).status).toBe(204);
  });
});
