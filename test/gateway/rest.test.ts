/**
 * The plain REST API against a real gateway, cluster and mount, driven with curl: round trips of a
 * 300 MiB file by sha256, ranges, conditional requests, a multipart form upload, listings, mkdir,
 * rename, delete, the errors (404, 409, 416), access keys, and files crossing between the gateway
 * and a mount both ways.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeRandomFile, sha256File, sha256 } from '../helpers/files.js';
import { curl, GatewayCluster, KEY, READ_ONLY_KEY } from '../helpers/gateway.js';

const MiB = 1024 * 1024;
const AUTH = ['-u', `${KEY.id}:${KEY.secret}`];

describe('fst-gateway REST API', () => {
  let gc: GatewayCluster;
  let local: string;
  const url = (p: string): string => `${gc.url}/files${p}`;

  beforeAll(async () => {
    gc = await GatewayCluster.start({ mount: true });
    local = await mkdtemp(join(tmpdir(), 'fst-gw-local-'));
  });
  afterAll(async () => {
    await gc?.stop();
    if (local) await rm(local, { recursive: true, force: true });
  });

  it('puts and gets a 300 MiB file, byte for byte', async () => {
    const src = join(local, 'big.bin');
    const want = await writeRandomFile(src, 300 * MiB);
    const put = await curl([...AUTH, '-T', src, url('/data/big.bin')]);
    expect(put.status).toBe(201);
    expect(JSON.parse(put.body)).toMatchObject({ path: '/data/big.bin', size: 300 * MiB });
    const dst = join(local, 'big.out');
    const get = await curl([...AUTH, url('/data/big.bin')], dst);
    expect(get.status).toBe(200);
    expect(get.headers['content-length']).toBe(String(300 * MiB));
    expect(get.headers.etag).toBe(put.headers.etag);
    expect(await sha256File(dst)).toBe(want);
    // And through the mount: the same bytes.
    expect(await sha256File(gc.mount!.path('data/big.bin'))).toBe(want);
  });

  it('serves ranges, and 416 for a range past the end', async () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const src = join(local, 'r.bin');
    await writeFile(src, data);
    expect((await curl([...AUTH, '-T', src, url('/r/r.bin')])).status).toBe(201);
    const mid = await curl([...AUTH, '-r', '100-199', url('/r/r.bin')], join(local, 'r1'));
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe('bytes 100-199/1000');
    expect(sha256(await readFile(join(local, 'r1')))).toBe(sha256(data.subarray(100, 200)));
    const tail = await curl([...AUTH, '-H', 'Range: bytes=-10', url('/r/r.bin')], join(local, 'r2'));
    expect(tail.status).toBe(206);
    expect([...await readFile(join(local, 'r2'))]).toEqual([...data.subarray(990)]);
    // If-Range: the range only while the file is the version named.
    const etag = (await curl([...AUTH, '-I', url('/r/r.bin')])).headers.etag!;
    expect((await curl([...AUTH, '-r', '0-9', '-H', `If-Range: ${etag}`, url('/r/r.bin')])).status).toBe(206);
    const other = await curl([...AUTH, '-r', '0-9', '-H', 'If-Range: "another-version"', url('/r/r.bin')]);
    expect(other.status).toBe(200);
    expect(other.headers['content-length']).toBe('1000');
    const bad = await curl([...AUTH, '-r', '1000-2000', url('/r/r.bin')]);
    expect(bad.status).toBe(416);
    expect(bad.headers['content-range']).toBe('bytes */1000');
  });

  it('answers conditional requests', async () => {
    const src = join(local, 'c.txt');
    await writeFile(src, 'conditional\n');
    const put = await curl([...AUTH, '-T', src, url('/c/c.txt')]);
    const head = await curl([...AUTH, '-I', url('/c/c.txt')]);
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toMatch(/^text\/plain/);
    expect(head.headers.etag).toBe(put.headers.etag);
    expect((await curl([...AUTH, '-H', `If-None-Match: ${head.headers.etag}`, url('/c/c.txt')])).status).toBe(304);
    expect((await curl([...AUTH, '-H', `If-Modified-Since: ${head.headers['last-modified']}`, url('/c/c.txt')])).status).toBe(304);
    expect((await curl([...AUTH, '-H', 'If-None-Match: "other"', url('/c/c.txt')])).status).toBe(200);
    expect((await curl([...AUTH, '-H', 'If-Match: "other"', url('/c/c.txt')])).status).toBe(412);
    // A change makes the old ETag stale.
    await writeFile(src, 'changed\n');
    // Replacing answers 200 (creating answered 201).
    expect(put.status).toBe(201);
    expect((await curl([...AUTH, '-T', src, url('/c/c.txt')])).status).toBe(200);
    const again = await curl([...AUTH, '-H', `If-None-Match: ${head.headers.etag}`, url('/c/c.txt')]);
    expect(again.status).toBe(200);
    expect(again.body).toBe('changed\n');
  });

  it('takes a multipart form upload', async () => {
    await writeFile(join(local, 'f1.txt'), 'first file\n');
    await writeFile(join(local, 'f2.bin'), Buffer.alloc(3 * MiB, 7));
    expect((await curl([...AUTH, '-X', 'POST', `${url('/forms')}?mkdir`])).status).toBe(201);
    const post = await curl([...AUTH, '-F', `a=@${join(local, 'f1.txt')}`, '-F', `b=@${join(local, 'f2.bin')}`, '-F', 'note=ignored', url('/forms/')]);
    expect(post.status).toBe(201);
    expect(JSON.parse(post.body).files).toEqual([{ name: 'f1.txt', size: 11 }, { name: 'f2.bin', size: 3 * MiB }]);
    expect(await readFile(gc.mount!.path('forms/f1.txt'), 'utf8')).toBe('first file\n');
    expect(sha256(await readFile(gc.mount!.path('forms/f2.bin')))).toBe(sha256(Buffer.alloc(3 * MiB, 7)));
  });

  it('lists directories in pages, with a prefix', async () => {
    for (const n of ['a1', 'a2', 'b1', 'a3']) {
      await writeFile(join(local, n), n);
      await curl([...AUTH, '-T', join(local, n), url(`/list/${n}`)]);
    }
    await curl([...AUTH, '-X', 'POST', `${url('/list/sub')}?mkdir`]);
    const all = JSON.parse((await curl([...AUTH, `${url('/list/')}?list`])).body);
    expect(all.entries.map((e: { name: string; type: string; size: number }) => [e.name, e.type, e.size])).toEqual([
      ['a1', 'file', 2], ['a2', 'file', 2], ['a3', 'file', 2], ['b1', 'file', 2], ['sub', 'dir', expect.any(Number)],
    ]);
    expect(all.next).toBeNull();
    const p1 = JSON.parse((await curl([...AUTH, `${url('/list/')}?list&limit=2&prefix=a`])).body);
    expect(p1.entries.map((e: { name: string }) => e.name)).toEqual(['a1', 'a2']);
    expect(p1.next).toBe('a2');
    const p2 = JSON.parse((await curl([...AUTH, `${url('/list/')}?list&limit=2&prefix=a&after=${p1.next}`])).body);
    expect(p2.entries.map((e: { name: string }) => e.name)).toEqual(['a3']);
    expect(p2.next).toBeNull();
  });

  it('makes directories, renames and deletes', async () => {
    await writeFile(join(local, 'm.txt'), 'move me');
    await curl([...AUTH, '-T', join(local, 'm.txt'), url('/ops/m.txt')]);
    const mv = await curl([...AUTH, '-X', 'POST', `${url('/ops/m.txt')}?rename=${encodeURIComponent('/ops/moved/m2.txt')}`]);
    expect(mv.status).toBe(200);
    expect((await curl([...AUTH, url('/ops/m.txt')])).status).toBe(404);
    expect((await curl([...AUTH, url('/ops/moved/m2.txt')])).body).toBe('move me');
    // A non-empty directory needs ?recursive=1.
    expect((await curl([...AUTH, '-X', 'DELETE', url('/ops')])).status).toBe(409);
    expect((await curl([...AUTH, '-X', 'DELETE', `${url('/ops')}?recursive=1`])).status).toBe(204);
    expect((await curl([...AUTH, url('/ops/moved/m2.txt')])).status).toBe(404);
  });

  it('answers 404 for missing paths and 409 where a directory or file is in the way', async () => {
    const missing = await curl([...AUTH, url('/nope/nothing.txt')]);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ code: 'ENOENT' });
    await curl([...AUTH, '-X', 'POST', `${url('/d/sub')}?mkdir`]);
    expect((await curl([...AUTH, url('/d/sub')])).status).toBe(409);
    await writeFile(join(local, 'x'), 'x');
    expect((await curl([...AUTH, '-T', join(local, 'x'), url('/d/sub')])).status).toBe(409);
    await curl([...AUTH, '-T', join(local, 'x'), url('/d/file')]);
    expect((await curl([...AUTH, '-T', join(local, 'x'), url('/d/file/below')])).status).toBe(409);
    expect((await curl([...AUTH, '-X', 'DELETE', url('/d/none')])).status).toBe(404);
  });

  it('moves files between the gateway and a mount both ways', async () => {
    await writeFile(gc.mount!.path('from-mount.txt'), 'written through the mount\n');
    expect((await curl([...AUTH, url('/from-mount.txt')])).body).toBe('written through the mount\n');
    await writeFile(join(local, 'g.txt'), 'written through the gateway\n');
    await curl([...AUTH, '-T', join(local, 'g.txt'), url('/deep/er/g.txt')]);
    expect(await readFile(gc.mount!.path('deep/er/g.txt'), 'utf8')).toBe('written through the gateway\n');
  });

  it('checks access keys', async () => {
    await writeFile(join(local, 'k.txt'), 'key');
    const anon = await curl([url('/c/c.txt')]);
    expect(anon.status).toBe(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Basic/);
    expect((await curl(['-u', `${KEY.id}:wrong-secret-0123456`, url('/c/c.txt')])).status).toBe(401);
    const ro = ['-u', `${READ_ONLY_KEY.id}:${READ_ONLY_KEY.secret}`];
    expect((await curl([...ro, url('/c/c.txt')])).status).toBe(200);
    const refused = await curl([...ro, '-T', join(local, 'k.txt'), url('/c/k.txt')]);
    expect(refused.status).toBe(403);
    expect((await curl([...AUTH, url('/c/k.txt')])).status).toBe(404);
  });
});
