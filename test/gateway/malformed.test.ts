/**
 * Malformed and hostile HTTP requests against a real gateway: paths with `..` or NUL, broken
 * escapes, huge headers, broken request lines, bodies cut short and clients that disconnect half
 * way through an upload. Each gets a clear 4xx (or, for a body cut short, nothing at all since the
 * client is gone), no partial file is ever visible, and the gateway goes on serving.
 */
import { connect, type Socket } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayCluster, KEY, curl } from '../helpers/gateway.js';
import { waitFor } from '../helpers/probes.js';

const BASIC = `Basic ${Buffer.from(`${KEY.id}:${KEY.secret}`).toString('base64')}`;

/** Sends raw bytes and resolves with what the server answered before closing (or `waitMs` of silence). */
function raw(address: string, request: string | Buffer, opts: { close?: boolean } = {}): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const s: Socket = connect(Number(port), host!, () => {
      s.write(request);
      if (opts.close) s.end();
    });
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', (e) => (got ? resolve(got) : reject(e)));
    s.on('close', () => resolve(got));
    s.setTimeout(30_000, () => s.destroy());
  });
}

const statusOf = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);

describe('fst-gateway against malformed requests', () => {
  let gc: GatewayCluster;
  beforeAll(async () => {
    gc = await GatewayCluster.start({ mount: true });
  });
  afterAll(async () => {
    await gc?.stop();
  });

  const get = (path: string): Promise<string> => raw(gc.gateway.address, `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nConnection: close\r\n\r\n`);

  it('refuses paths with .., NUL or broken escapes with 400', async () => {
    for (const path of ['/files/../etc/passwd', '/files/a/%2e%2e/b', '/files/a%00b', '/files/a%zzb', '/files/%c3%28', '/bucket/a/../b']) {
      const answer = await get(path);
      expect(statusOf(answer), path).toBe(400);
    }
    const s3 = await get('/bucket/a/../b');
    expect(s3).toContain('<Code>InvalidArgument</Code>');
  });

  it('answers huge headers with 431 and broken request lines with 400', async () => {
    const huge = `GET /files/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`;
    expect(statusOf(await raw(gc.gateway.address, huge))).toBe(431);
    expect(statusOf(await raw(gc.gateway.address, 'NOT A REQUEST\r\n\r\n'))).toBe(400);
    expect(statusOf(await raw(gc.gateway.address, `PUT /files/x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`))).toBe(400);
  });

  it('leaves no file behind a body cut short, and keeps an old file whole', async () => {
    const put = (path: string, declared: number, sent: number): Promise<string> => raw(gc.gateway.address,
      Buffer.concat([Buffer.from(`PUT ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nContent-Length: ${declared}\r\n\r\n`), Buffer.alloc(sent, 1)]), { close: true });
    await put('/files/cut/new.bin', 4 * 1024 * 1024, 300 * 1024);
    // The old content of an existing file survives an upload over it that breaks off.
    expect((await curl(['-u', `${KEY.id}:${KEY.secret}`, '-X', 'PUT', '--data-binary', 'old content', `${gc.url}/files/cut/old.txt`])).status).toBe(201);
    await put('/files/cut/old.txt', 8 * 1024 * 1024, 2 * 1024 * 1024);
    // S3 too, with an anonymous (refused) and a signed-looking but truncated body alike.
    await put('/cutbucket/obj', 1024 * 1024, 1000);
    const tmp = gc.mount!.path('.fst-gateway/tmp');
    await waitFor('the staging files of the broken uploads to be removed', async () => (await readdir(tmp)).length === 0);
    expect(await readdir(gc.mount!.path('cut'))).toEqual(['old.txt']);
    expect(await readFile(gc.mount!.path('cut/old.txt'), 'utf8')).toBe('old content');
  });

  it('drops an upload whose client disconnects half way, and goes on serving', async () => {
    // curl sending slowly, killed while its body is on the way.
    const [host, port] = gc.gateway.address.split(':');
    const s = connect(Number(port), host!);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write(`PUT /files/slow/file.bin HTTP/1.1\r\nHost: x\r\nAuthorization: ${BASIC}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    for (let i = 0; i < 20; i++) s.write(`10000\r\n${'b'.repeat(0x10000)}\r\n`);
    await waitFor('the upload to reach the staging directory', async () => (await readdir(gc.mount!.path('.fst-gateway/tmp'))).length > 0);
    s.destroy();
    await waitFor('the staging file to go', async () => (await readdir(gc.mount!.path('.fst-gateway/tmp'))).length === 0);
    expect(await readdir(gc.mount!.path('slow')).catch(() => [])).toEqual([]);
    const health = await curl([`${gc.url}/health`]);
    expect(health.status).toBe(200);
    expect(gc.gateway.running).toBe(true);
  });
});
