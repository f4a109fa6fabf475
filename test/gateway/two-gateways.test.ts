/**
 * Several gateways serving one cluster, as behind a load balancer: what one writes the other reads
 * at once (no cache trusted across requests), a multipart upload begun on one goes on and completes
 * on the other, and a dashboard sign-in on one is good on the other (one keys file).
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/daemon-process.js';
import { sha256 } from '../helpers/files.js';
import { curl, GatewayCluster, KEY } from '../helpers/gateway.js';

const MiB = 1024 * 1024;

describe('two gateways on one cluster', () => {
  let gc: GatewayCluster;
  let second: DaemonProcess;
  let a: S3Client;
  let b: S3Client;
  const client = (address: string): S3Client =>
    new S3Client({ endpoint: `http://${address}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret } });

  beforeAll(async () => {
    gc = await GatewayCluster.start();
    second = await DaemonProcess.start('fst-gateway-2', 'fst-gateway.js', [
      '--master', gc.cluster.masterAddress, '--listen', '127.0.0.1:0', '--credentials', gc.cluster.credentials, '--keys', `${gc.dir}/keys.toml`, '--anonymous', 'none',
    ]);
    a = client(gc.gateway.address);
    b = client(second.address);
  });
  afterAll(async () => {
    a?.destroy();
    b?.destroy();
    await second?.stop();
    await gc?.stop();
  });

  it('reads on one what the other wrote, at once', async () => {
    await a.send(new CreateBucketCommand({ Bucket: 'shared' }));
    for (let i = 0; i < 20; i++) {
      const body = `version ${i}`;
      await (i % 2 === 0 ? a : b).send(new PutObjectCommand({ Bucket: 'shared', Key: 'doc.txt', Body: body }));
      const got = await (i % 2 === 0 ? b : a).send(new GetObjectCommand({ Bucket: 'shared', Key: 'doc.txt' }));
      expect(await got.Body!.transformToString()).toBe(body);
    }
  });

  it('completes on one gateway a multipart upload begun on the other', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(MiB)];
    const { UploadId } = await a.send(new CreateMultipartUploadCommand({ Bucket: 'shared', Key: 'multi.bin' }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      etags.push((await (i % 2 === 0 ? b : a).send(new UploadPartCommand({ Bucket: 'shared', Key: 'multi.bin', UploadId, PartNumber: i + 1, Body: body }))).ETag!);
    }
    await b.send(new CompleteMultipartUploadCommand({ Bucket: 'shared', Key: 'multi.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const got = await a.send(new GetObjectCommand({ Bucket: 'shared', Key: 'multi.bin' }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(Buffer.concat(parts)));
  });

  it('accepts on one a dashboard sign-in made on the other', async () => {
    const login = await curl(['-X', 'POST', '-H', 'content-type: application/json', '--data', JSON.stringify({ accessKey: KEY.id, secretKey: KEY.secret }), `${gc.url}/api/login`]);
    expect(login.status).toBe(200);
    const cookie = login.headers['set-cookie']!.split(';')[0]!;
    const who = await curl(['-H', `cookie: ${cookie}`, `http://${second.address}/api/whoami`]);
    expect(JSON.parse(who.body)).toMatchObject({ signedIn: true, accessKey: KEY.id });
    const listed = await curl(['-H', `cookie: ${cookie}`, `http://${second.address}/files/shared/?list`]);
    expect(JSON.parse(listed.body).entries.map((e: { name: string }) => e.name)).toEqual(['doc.txt', 'multi.bin']);
  });
});
