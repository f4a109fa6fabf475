/**
 * Every POSIX error the master promises, seen by a client over real gRPC: the errno name arrives
 * intact (trailer), whatever path the request took.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { ROOT_INO } from '../../src/common/ids.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { loadCredentialsFor } from '../helpers/credentials.js';

describe('errno end to end', () => {
  let cluster: ProcessCluster;
  let client: FstClient;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 1, replication: 1 });
    client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
    await client.mkdirp('/d/sub');
    await client.writeFile('/d/file', 'x');
  });
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'OK', (e: { code?: string }) => e.code ?? String(e));

  it('EEXIST, ENOENT, ENOTDIR, EISDIR, ENOTEMPTY', async () => {
    expect(await code(client.mkdir('/d'))).toBe('EEXIST');
    expect(await code(client.open('/d/file', { create: true, exclusive: true, write: true }))).toBe('EEXIST');
    expect(await code(client.stat('/nope'))).toBe('ENOENT');
    expect(await code(client.unlink('/d/nope'))).toBe('ENOENT');
    expect(await code(client.mkdir('/d/file/x'))).toBe('ENOTDIR');
    expect(await code(client.rmdir('/d/file'))).toBe('ENOTDIR');
    expect(await code(client.unlink('/d/sub'))).toBe('EISDIR');
    expect(await code(client.rmdir('/d'))).toBe('ENOTEMPTY');
    expect(await code(client.rename('/d/file', '/d/sub', { noReplace: false }))).toBe('EISDIR');
    expect(await code(client.rename('/d/file', '/d/sub2', { noReplace: true }))).toBe('OK');
    await client.rename('/d/sub2', '/d/file');
  });

  it('EINVAL for a directory renamed into its own subtree', async () => {
    expect(await code(client.rename('/d', '/d/sub/inside'))).toBe('EINVAL');
    expect((await client.stat('/d/sub')).kind).toBe('directory');
  });

  it('ENAMETOOLONG over 255 bytes; 255 works; / and NUL refused', async () => {
    expect(await code(client.mkdir('/' + 'a'.repeat(256)))).toBe('ENAMETOOLONG');
    expect(await code(client.mkdir('/' + 'é'.repeat(128)))).toBe('ENAMETOOLONG'); // 256 bytes in UTF-8
    expect(await code(client.mkdir('/' + 'b'.repeat(255)))).toBe('OK');
    // Raw names through the metadata RPCs: a path API would split them.
    expect(await code(client.meta.mkdir(ROOT_INO, 'a/b', 0o755))).toBe('EINVAL');
    expect(await code(client.meta.mkdir(ROOT_INO, 'a\0b', 0o755))).toBe('EINVAL');
    expect(await code(client.meta.mkdir(ROOT_INO, '', 0o755))).toBe('EINVAL');
  });

  it('keeps nlink and times as POSIX says', async () => {
    const before = await client.stat('/d');
    await client.mkdir('/d/another');
    const after = await client.stat('/d');
    expect(after.nlink).toBe(before.nlink + 1);
    expect(after.mtimeMs).toBeGreaterThanOrEqual(before.mtimeMs);
    await client.link('/d/file', '/d/file-link');
    expect((await client.stat('/d/file')).nlink).toBe(2);
    await client.unlink('/d/file-link');
    expect((await client.stat('/d/file')).nlink).toBe(1);
    await client.rmdir('/d/another');
    expect((await client.stat('/d')).nlink).toBe(before.nlink);
  });
});
