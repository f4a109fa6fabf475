/**
 * fstadmin metadata rebuild on real daemons (bin/, fstadmin in-process): files of several sizes
 * (one spanning two chunks, one with a hole, nested ones, one renamed after it was written) are
 * written; the master's whole data directory is deleted; a fresh master starts on the same address,
 * the chunkservers are restarted with its new credential (the old CA is gone with the directory),
 * and `metadata rebuild` brings every file kept in chunks back under /lost+found at its last known
 * path, byte for byte, keeping its inode number. Files kept inline in the metadata (at most
 * --inline-max bytes) are not on any chunkserver and do not come back, unless the master keeps
 * none inline (--inline-max 0: last case). A rebuild is refused while a registered chunkserver is
 * down, adds nothing when run again, and leaves a cluster that writes new files, writes into the
 * recovered chunks, and fscks clean. A chunkserver that comes back after a rebuild keeps its chunks
 * (their ids are below those the rebuild adopted, but this metadata never issued them), and a second
 * rebuild recovers them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RebuildJson } from '../../src/admin/commands/metadata-rebuild.js';
import { FstClient } from '../../src/client/fst-client.js';
import { CHUNK_SIZE } from '../../src/common/ids.js';
import { fstadminInProcess } from '../helpers/admin-in-process.js';
import { ensureBuilt } from '../helpers/build.js';
import { adminStatus } from '../helpers/cli.js';
import { Cleanup } from '../helpers/cleanup.js';
import { loadCredentialsFor } from '../helpers/credentials.js';
import { chunkIdsOnDisk, sha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

beforeAll(() => ensureBuilt('master/admin/rebuild.js', ['src/master', 'src/chunkserver', 'src/common', 'proto']), 300_000);

async function connect(c: ProcessCluster): Promise<FstClient> {
  const client = new FstClient({ master: c.masterAddress, credentials: c.insecure ? undefined : await loadCredentialsFor(c.masterAddress) });
  await client.connect();
  cleanup.add(() => client.close());
  return client;
}

/** Writes `pieces` (offset, bytes) into a new file; returns the sha256 of its whole content. */
async function writePieces(client: FstClient, path: string, pieces: [number, Buffer][]): Promise<string> {
  const h = await client.open(path, { create: true, write: true, truncate: true });
  try {
    for (const [at, data] of pieces) await h.write(at, data);
  } finally {
    await h.close();
  }
  const size = Math.max(0, ...pieces.map(([at, d]) => at + d.length));
  const whole = Buffer.alloc(size);
  for (const [at, d] of pieces) d.copy(whole, at);
  return sha256(whole);
}

async function rebuild(c: ProcessCluster, ...args: string[]): Promise<{ code: number; stderr: string; res?: RebuildJson }> {
  const r = await fstadminInProcess(['--master', c.masterAddress, 'metadata', 'rebuild', '--json', ...args]);
  return { code: r.code, stderr: r.stderr, res: r.code === 0 ? JSON.parse(r.stdout) as RebuildJson : undefined };
}

/**
 * Stops the master, deletes its whole data directory (and on PostgreSQL its database) and starts a
 * fresh one on the same address.
 */
async function loseMetadata(c: ProcessCluster): Promise<void> {
  const address = c.masterAddress;
  await c.master.stop();
  await rm(c.masterDataDir, { recursive: true, force: true });
  await c.loseMetaDatabase();
  await c.startMaster(address);
}

describe('fstadmin metadata rebuild', () => {
  it('recovers every file kept in chunks after the master lost its data directory', async () => {
    const c = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--replication-interval-ms', '300'] }));
    const client = await connect(c);
    await client.mkdirp('/a/b/c');
    await client.mkdir('/docs');
    const want = new Map<string, string>(); // last known path -> sha256
    want.set('/a/b/five', await writePieces(client, '/a/b/five', [[0, randomBytes(5 * MiB)]]));
    want.set('/a/seventy', await writePieces(client, '/a/seventy', [[0, randomBytes(70 * MiB)]]));
    want.set('/a/b/c/nested', await writePieces(client, '/a/b/c/nested', [[0, randomBytes(3 * MiB + 11)]]));
    want.set('/holey', await writePieces(client, '/holey', [[0, randomBytes(MiB)], [66 * MiB, randomBytes(MiB + 5)]]));
    want.set('/docs/just-above-inline', await writePieces(client, '/docs/just-above-inline', [[0, randomBytes(64 * 1024 + 1)]]));
    // Renamed after its chunks were made: it comes back under its old name.
    want.set('/first-name', await writePieces(client, '/first-name', [[0, randomBytes(2 * MiB)]]));
    await client.rename('/first-name', '/a/renamed');
    // Kept inline in the metadata: on no chunkserver.
    const inline = ['/empty', '/one-byte', '/docs/small'];
    await client.writeFile('/empty', '');
    await client.writeFile('/one-byte', 'x');
    await client.writeFile('/docs/small', randomBytes(40 * 1024));
    const oldInos = new Map<string, number>();
    for (const p of [...want.keys()].map((k) => (k === '/first-name' ? '/a/renamed' : k))) oldInos.set(p, (await client.stat(p)).ino);
    await client.close();

    await loseMetadata(c);
    // The new master made a new CA and admin credential (at the same path): the chunkservers'
    // old certificates are refused until they restart with a credential it issued.
    for (const cs of c.chunkservers) await c.restartChunkserver(cs.index);
    await c.waitForChunkservers(3);

    // A registered chunkserver down: refused, nothing done.
    await c.chunkservers[2]!.process.stop();
    await waitFor('chunkserver 2 dead', async () => (await adminStatus(c.masterAddress)).servers.filter((s) => s.state === 'alive').length === 2);
    const refused = await rebuild(c);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 registered chunkserver\(s\) not alive.*--force/);
    await c.restartChunkserver(2);
    await c.waitForChunkservers(3);

    const first = await rebuild(c);
    expect(first.code, first.stderr).toBe(0);
    const r = first.res!;
    expect(r.into).toBe('/lost+found');
    expect(r.servers).toHaveLength(3);
    expect(r.unowned + r.superseded).toBe(0);
    expect(new Set(r.rebuilt.map((f) => f.lastKnownPath))).toEqual(new Set(want.keys()));
    expect(r.files).toBe(want.size);
    // 70 MiB and the holey file span two chunks each.
    expect(r.chunks).toBe(want.size + 2);
    for (const f of r.rebuilt) {
      expect(f.path).toBe('/lost+found' + f.lastKnownPath);
      const now = f.lastKnownPath === '/first-name' ? '/a/renamed' : f.lastKnownPath;
      expect(f.oldIno).toBe(oldInos.get(now));
      expect(f.ino).toBe(f.oldIno);
    }

    const after = await connect(c);
    for (const [path, sum] of want) {
      const got = await after.readFile('/lost+found' + path);
      expect(sha256(got), path).toBe(sum);
    }
    expect((await after.stat('/lost+found/holey')).size).toBe(67 * MiB + 5);
    expect((await after.stat('/lost+found/a/seventy')).size).toBe(70 * MiB);
    for (const p of inline) expect(await after.exists('/lost+found' + p), p).toBe(false);

    // Nothing twice.
    const second = await rebuild(c);
    expect(second.res).toMatchObject({ files: 0, chunks: 0, alreadyUsed: want.size + 2 });
    const human = await fstadminInProcess(['--master', c.masterAddress, 'metadata', 'rebuild']);
    expect(human.stdout).toBe(`metadata rebuild: 0 files (0 B, 0 chunks) into /lost+found from 3 chunkservers; ${want.size + 2} chunks already in use, 0 of deleted files left alone\n`);

    // New chunks never take an adopted id; a recovered file grows like any other.
    const fresh = randomBytes(3 * MiB);
    await after.writeFile('/after', fresh);
    expect(sha256(await after.readFile('/after'))).toBe(sha256(fresh));
    const h = await after.open('/lost+found/a/b/five', { write: true });
    await h.write(100, Buffer.from('patched'));
    await h.write(CHUNK_SIZE + 10, Buffer.from('appended'));
    await h.close();
    const grown = await after.readFile('/lost+found/a/b/five');
    expect(grown.subarray(100, 107).toString()).toBe('patched');
    expect(grown.subarray(CHUNK_SIZE + 10).toString()).toBe('appended');
    await waitFor('fsck clean', async () => {
      const f = await fstadminInProcess(['--master', c.masterAddress, 'fsck', '--json']);
      if (f.code !== 0) throw new Error(f.stdout.slice(0, 2000));
      return true;
    }, 90_000, 1_000);
  });

  it('keeps the chunks of a chunkserver that was away during the rebuild, and recovers them in a second one', async () => {
    const c = cleanup.stops(await startProcessCluster({ chunkservers: 2, replication: 1, masterArgs: ['--insecure'] }));
    const client = await connect(c);
    const alive = async (n: number): Promise<void> => {
      await waitFor(`${n} live chunkservers`, async () => (await adminStatus(c.masterAddress)).servers.filter((s) => s.state === 'alive').length === n);
    };
    // /early's chunk on server 1 only, /later's (a higher id) on server 0 only.
    await c.chunkservers[0]!.process.stop();
    await alive(1);
    const early = randomBytes(MiB);
    await client.writeFile('/early', early);
    await c.restartChunkserver(0);
    await c.chunkservers[1]!.process.stop();
    await alive(1);
    const later = randomBytes(MiB);
    await client.writeFile('/later', later);
    await client.close();
    const [earlyId] = await chunkIdsOnDisk(c.chunkservers[1]!.dataDir);

    await loseMetadata(c);
    await c.waitForChunkservers(1);
    // Server 1 never registered with the new master: nothing to refuse for.
    const first = await rebuild(c);
    expect(first.res).toMatchObject({ files: 1, chunks: 1 });
    expect(first.res!.rebuilt[0]!.lastKnownPath).toBe('/later');
    // Its id is below the ids the rebuild adopted: still not one this metadata issued, so kept.
    await c.restartChunkserver(1);
    const kept = new RegExp(`"chunkIds":\\[${earlyId}\\].*never issued`);
    await waitFor('its report applied', () => c.master.logTail().split('\n').some((line) => kept.test(line)));
    expect(await chunkIdsOnDisk(c.chunkservers[1]!.dataDir)).toEqual([earlyId]);
    const second = await rebuild(c);
    expect(second.code, second.stderr).toBe(0);
    expect(second.res).toMatchObject({ files: 1, chunks: 1, alreadyUsed: 1 });
    const after = await connect(c);
    expect(sha256(await after.readFile('/lost+found/early'))).toBe(sha256(early));
    expect(sha256(await after.readFile('/lost+found/later'))).toBe(sha256(later));
  });

  it('recovers small files too when the master keeps none inline (--inline-max 0)', async () => {
    const c = cleanup.stops(await startProcessCluster({ chunkservers: 2, replication: 1, masterArgs: ['--insecure', '--inline-max', '0'] }));
    const client = await connect(c);
    const small = new Map<string, Buffer>([['/one-byte', Buffer.from('x')], ['/dir/small', randomBytes(40 * 1024)]]);
    await client.mkdir('/dir');
    for (const [p, b] of small) await client.writeFile(p, b);
    await client.writeFile('/empty', '');
    await client.close();

    await loseMetadata(c);
    // --insecure: the chunkservers reconnect by themselves.
    await c.waitForChunkservers(2);
    const r = await rebuild(c, '--into', '/recovered');
    expect(r.code, r.stderr).toBe(0);
    expect(r.res).toMatchObject({ into: '/recovered', files: 2, chunks: 2 });
    const after = await connect(c);
    for (const [p, b] of small) {
      const got = await after.readFile('/recovered' + p);
      expect(createHash('sha256').update(got).digest('hex'), p).toBe(sha256(b));
    }
    // An empty file has no chunk: nothing of it is anywhere but in the lost metadata.
    expect(await after.exists('/recovered/empty')).toBe(false);
  });
});
