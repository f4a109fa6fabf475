/**
 * The HTTP gateway against the client library it is built on, in the same run on the same cluster
 * (1 master + 3 chunkservers as processes, replication 2, TLS, one fst-gateway process):
 * - a 1 GiB object: curl through the REST API (`-T`, `-o`) and through S3 (`--aws-sigv4`), and
 *   @aws-sdk/client-s3 PutObject/GetObject, against `fst put` / `fst get`;
 * - 2,000 objects of 4 KiB, 8 in flight, over kept-alive connections: REST PUT/GET, S3 requests
 *   signed with SigV4 (@smithy/signature-v4, as the SDK signs them, sent with node's http), and the
 *   SDK's PutObject/GetObject, against the client library in-process (writeFile / readFile).
 * Targets of issue 15: large objects at least 0.8, small objects at least 0.5 of the client's rate.
 * The SDK rows are there for information: the SDK spends 1.5-2 ms of CPU per request in the bench
 * process itself (its middleware stack), on the same two cores as the gateway and the cluster, so
 * they measure the SDK as much as the gateway. Keys have the same depth on every side.
 *
 * Run: npm run bench -- bench/gateway.bench-run.ts   (FST_BENCH_GW_MIB=256 for a shorter run)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../src/client/fst-client.js';
import { loadCredentialsFor } from '../test/helpers/credentials.js';
import { runCli } from '../test/helpers/cli.js';
import { GatewayCluster, KEY } from '../test/helpers/gateway.js';
import { NodeSha256 } from '../test/helpers/s3-signing.js';
import { printTable, type BenchRow } from './report.js';

const run = promisify(execFile);

const MiB = 1024 * 1024;
const BIG = Number(process.env.FST_BENCH_GW_MIB ?? 1024) * MiB;
const SMALL_COUNT = 2000;
const SMALL = 4096;
const IN_FLIGHT = 8;
const mbps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `fn(i)` for i < n with `width` in flight. */
async function inParallel(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

describe('fst-gateway against the client library', () => {
  let gc: GatewayCluster;
  let dir: string;
  let client: FstClient;
  let s3: S3Client;
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const basic = `Basic ${Buffer.from(`${KEY.id}:${KEY.secret}`).toString('base64')}`;
  const signer = new SignatureV4({ credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret }, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false });

  beforeAll(async () => {
    gc = await GatewayCluster.start();
    dir = await mkdtemp(join(tmpdir(), 'fst-gw-bench-'));
    client = new FstClient({ master: gc.cluster.masterAddress, credentials: await loadCredentialsFor(gc.cluster.masterAddress) });
    await client.connect();
    s3 = new S3Client({ endpoint: gc.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret } });
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'small' }));
    await client.mkdirp('/lib');
  });
  afterAll(async () => {
    s3?.destroy();
    agent.destroy();
    await client?.close();
    await gc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** One REST request over the kept-alive agent; resolves with the body's length. */
  function rest(method: string, path: string, body?: Buffer): Promise<number> {
    return send(method, `/files${path}`, { authorization: basic }, body);
  }

  /** One S3 request signed with SigV4 (unsigned payload, as over TLS), over the kept-alive agent. */
  async function signed(method: string, path: string, body?: Buffer): Promise<number> {
    const [hostname, port] = gc.gateway.address.split(':');
    const req = await signer.sign({
      method, protocol: 'http:', hostname: hostname!, port: Number(port), path, query: {},
      headers: { host: gc.gateway.address, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...(body ? { 'content-length': String(body.length) } : {}) },
    });
    return send(method, path, req.headers, body);
  }

  function send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
    const [host, port] = gc.gateway.address.split(':');
    return new Promise((resolve, reject) => {
      const req = request({ host, port: Number(port), method, path, agent, headers: { ...headers, ...(body ? { 'content-length': body.length } : {}) } }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => (res.statusCode! < 300 ? resolve(n) : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('measures large and small objects', async () => {
    const src = join(dir, 'big.bin');
    const pattern = randomBytes(64 * MiB);
    await writeFile(src, Buffer.concat(Array.from({ length: BIG / (64 * MiB) }, () => pattern)));
    const auth = ['-u', `${KEY.id}:${KEY.secret}`];

    // 1 GiB: the fst CLI, then the REST API with curl, then S3.
    const fstPut = await timed(async () => expect((await runCli('fst', ['--master', gc.cluster.masterAddress, 'put', src, '/cli-big.bin'])).code).toBe(0));
    const fstGet = await timed(async () => expect((await runCli('fst', ['--master', gc.cluster.masterAddress, 'get', '/cli-big.bin', join(dir, 'cli.out')])).code).toBe(0));
    await rm(join(dir, 'cli.out'));
    const restPut = await timed(() => run('curl', ['-sSf', ...auth, '-T', src, `${gc.url}/files/rest-big.bin`]));
    const restGet = await timed(() => run('curl', ['-sSf', ...auth, '-o', join(dir, 'rest.out'), `${gc.url}/files/rest-big.bin`]));
    expect((await stat(join(dir, 'rest.out'))).size).toBe(BIG);
    await rm(join(dir, 'rest.out'));
    const sig = ['--aws-sigv4', 'aws:amz:us-east-1:s3', '--user', `${KEY.id}:${KEY.secret}`];
    const curlS3Put = await timed(() => run('curl', ['-sSf', ...sig, '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD', '-T', src, `${gc.url}/bench/curl-big.bin`]));
    const curlS3Get = await timed(() => run('curl', ['-sSf', ...sig, '-o', join(dir, 's3.out'), `${gc.url}/bench/curl-big.bin`]));
    expect((await stat(join(dir, 's3.out'))).size).toBe(BIG);
    await rm(join(dir, 's3.out'));
    const s3Put = await timed(() => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'big.bin', Body: createReadStream(src), ContentLength: BIG })));
    const s3Get = await timed(async () => {
      const res = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'big.bin' }));
      let n = 0;
      for await (const chunk of res.Body as AsyncIterable<Buffer>) n += chunk.length;
      expect(n).toBe(BIG);
    });

    // 2,000 x 4 KiB: the client library in-process, then REST, then S3.
    const small = Array.from({ length: SMALL_COUNT }, () => randomBytes(SMALL));
    const libPut = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, (i) => client.writeFile(`/lib/o${i}`, small[i]!)));
    const libGet = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, async (i) => void expect((await client.readFile(`/lib/o${i}`)).length).toBe(SMALL)));
    await rest('PUT', '/small/warm', small[0]);
    const restSmallPut = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, async (i) => void await rest('PUT', `/small/o${i}`, small[i])));
    const restSmallGet = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, async (i) => void expect(await rest('GET', `/small/o${i}`)).toBe(SMALL)));
    const signedPut = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, async (i) => void await signed('PUT', `/small/s${i}`, small[i])));
    const signedGet = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, async (i) => void expect(await signed('GET', `/small/s${i}`)).toBe(SMALL)));
    const s3SmallPut = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, async (i) => void await s3.send(new PutObjectCommand({ Bucket: 'small', Key: `o${i}`, Body: small[i] }))));
    const s3SmallGet = await timed(() => inParallel(SMALL_COUNT, IN_FLIGHT, async (i) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: 'small', Key: `o${i}` }));
      expect((await res.Body!.transformToByteArray()).length).toBe(SMALL);
    }));

    const ops = (ms: number): number => SMALL_COUNT / (ms / 1000);
    const rows: BenchRow[] = [
      { workload: `REST PUT ${BIG / MiB} MiB (curl)`, unit: 'MB/s', baselineName: 'fst put', baseline: mbps(BIG, fstPut), value: mbps(BIG, restPut) },
      { workload: `S3 PUT ${BIG / MiB} MiB (curl)`, unit: 'MB/s', baselineName: 'fst put', baseline: mbps(BIG, fstPut), value: mbps(BIG, curlS3Put) },
      { workload: `S3 PutObject ${BIG / MiB} MiB (SDK)`, unit: 'MB/s', baselineName: 'fst put', baseline: mbps(BIG, fstPut), value: mbps(BIG, s3Put) },
      { workload: `REST GET ${BIG / MiB} MiB (curl)`, unit: 'MB/s', baselineName: 'fst get', baseline: mbps(BIG, fstGet), value: mbps(BIG, restGet) },
      { workload: `S3 GET ${BIG / MiB} MiB (curl)`, unit: 'MB/s', baselineName: 'fst get', baseline: mbps(BIG, fstGet), value: mbps(BIG, curlS3Get) },
      { workload: `S3 GetObject ${BIG / MiB} MiB (SDK)`, unit: 'MB/s', baselineName: 'fst get', baseline: mbps(BIG, fstGet), value: mbps(BIG, s3Get) },
      { workload: `REST PUT ${SMALL_COUNT} x 4 KiB`, unit: 'obj/s', baselineName: 'client lib', baseline: ops(libPut), value: ops(restSmallPut) },
      { workload: `S3 PUT ${SMALL_COUNT} x 4 KiB (signed)`, unit: 'obj/s', baselineName: 'client lib', baseline: ops(libPut), value: ops(signedPut) },
      { workload: `S3 PutObject ${SMALL_COUNT} x 4 KiB (SDK)`, unit: 'obj/s', baselineName: 'client lib', baseline: ops(libPut), value: ops(s3SmallPut) },
      { workload: `REST GET ${SMALL_COUNT} x 4 KiB`, unit: 'obj/s', baselineName: 'client lib', baseline: ops(libGet), value: ops(restSmallGet) },
      { workload: `S3 GET ${SMALL_COUNT} x 4 KiB (signed)`, unit: 'obj/s', baselineName: 'client lib', baseline: ops(libGet), value: ops(signedGet) },
      { workload: `S3 GetObject ${SMALL_COUNT} x 4 KiB (SDK)`, unit: 'obj/s', baselineName: 'client lib', baseline: ops(libGet), value: ops(s3SmallGet) },
    ];
    printTable(`fst-gateway vs the client library (${IN_FLIGHT} in flight for small objects; ratio = gateway / baseline)`, rows);
  });
});
