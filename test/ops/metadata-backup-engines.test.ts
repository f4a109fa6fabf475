/**
 * Metadata backups, restores, dumps and loads with a master on PostgreSQL, and across engines, with
 * real processes and a real PostgreSQL 15. A backup of PostgreSQL metadata is taken while writers
 * run (a dump in one REPEATABLE READ transaction, beside the cluster's identity); the database and
 * the master's data directory are then lost, a master restores the backup into a new database,
 * `fsck --repair` reconciles it, and every file closed before the backup reads back by sha256.
 * Across engines: a SQLite master's backup restored onto PostgreSQL, then PostgreSQL's dump loaded
 * into a SQLite data directory: the namespace makes the round trip.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { toFsError } from '../../src/common/errors/to-errno.js';
import { backupUnderWrites } from '../helpers/background-writer.js';
import { Cleanup } from '../helpers/cleanup.js';
import { adminStatus, runCli } from '../helpers/cli.js';
import { copyIdentity, loadCredentialsFor } from '../helpers/credentials.js';
import { DaemonProcess } from '../helpers/daemon-process.js';
import { sha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/probes.js';
import { usePostgres } from '../helpers/postgres.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;
const cleanup = new Cleanup();
afterEach(() => cleanup.run());
const pg = usePostgres();

interface FsckJson { problems: { kind: string; repaired: boolean }[] }

async function clientOf(cluster: ProcessCluster): Promise<FstClient> {
  const client = new FstClient({ master: cluster.masterAddress, credentials: await loadCredentialsFor(cluster.masterAddress) });
  await client.connect();
  cleanup.add(() => client.close().catch(() => undefined));
  return client;
}

/** Writes files of several sizes (empty, inline, one chunk, two chunks); their sha256 by path. */
async function writeFiles(client: FstClient, prefix: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const [name, size] of [['empty', 0], ['small.txt', 100], ['mid.bin', 300 * 1024], ['sub/two-chunks.bin', 66 * MiB]] as const) {
    const path = `${prefix}/${name}`;
    const data = randomBytes(size);
    await client.mkdirp(path.slice(0, path.lastIndexOf('/')));
    await client.writeFile(path, data);
    files.set(path, sha256(data));
  }
  await client.symlink('sub/two-chunks.bin', `${prefix}/link`);
  await client.setxattr(`${prefix}/small.txt`, 'user.color', 'blue');
  return files;
}

async function expectFiles(client: FstClient, files: Map<string, string>, prefix: string): Promise<void> {
  for (const [path, sha] of files) expect(sha256(await client.readFile(path)), path).toBe(sha);
  expect(await client.readlink(`${prefix}/link`)).toBe('sub/two-chunks.bin');
  expect((await client.getxattr(`${prefix}/small.txt`, 'user.color')).toString()).toBe('blue');
}

async function repair(master: string): Promise<void> {
  const fsck = await waitFor('fsck --repair to leave the cluster clean', async () => {
    const r = await runCli('fstadmin', ['--master', master, 'fsck', '--repair', '--json']);
    return JSON.parse(r.stdout) as FsckJson;
  });
  expect(fsck.problems.every((p) => p.repaired)).toBe(true);
  await waitFor('a second fsck to find nothing', async () => (await runCli('fstadmin', ['--master', master, 'fsck'])).code === 0);
}

describe('metadata backups on PostgreSQL, and across engines', () => {
  it('backs up PostgreSQL metadata under writes and restores it into a new database', async () => {
    const url = await pg.get().createDatabase();
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--meta', url] }));
    const master = cluster.masterAddress;
    const backupFile = join(cluster.root, 'meta.fstbackup');
    let client = await clientOf(cluster);
    const before = await writeFiles(client, '/a');

    // Writers go on while the backup is taken.
    const taken = await backupUnderWrites(client, master, backupFile, (n) => 64 * 1024 + (n % 7) * 1000);
    for (const [path, sha] of taken.before) before.set(path, sha);
    const after = taken.after;
    expect(after.length).toBeGreaterThan(0);

    const verified = await runCli('fstadmin', ['metadata', 'verify', backupFile, '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    const names = (JSON.parse(verified.stdout) as { files: { name: string }[] }).files.map((f) => f.name);
    expect(names).toContain('meta.jsonl');
    expect(names).toContain('admin.credentials');
    expect((await adminStatus(master) as unknown as { engine: string }).engine).toBe('postgres');

    // The database and the master's machine are both lost.
    await client.close();
    await cluster.master.kill();
    await rm(cluster.masterDataDir, { recursive: true, force: true });
    await pg.get().dropDatabase(url);
    const fresh = await pg.get().createDatabase();
    await cluster.startMaster(master, ['--meta', fresh, '--restore', backupFile]);
    await cluster.waitForChunkservers(3);
    expect((await adminStatus(master) as unknown as { restoredFrom: string }).restoredFrom).toContain(backupFile);

    // A restore never overwrites a namespace: the restored database is refused as a target.
    const other = join(cluster.root, 'other-master');
    const refused = await DaemonProcess.start('fst-master-twice', 'fst-master.js', ['--data', other, '--meta', fresh, '--listen', '127.0.0.1:0', '--restore', backupFile]).then(
      async (d) => {
        await d.stop();
        return 'started';
      }, (e: unknown) => String(e));
    expect(refused).toMatch(/already holds a namespace/);

    await repair(master);
    client = await clientOf(cluster);
    await expectFiles(client, before, '/a');
    for (const path of after) expect(await client.stat(path).then(() => 'present', (e: unknown) => toFsError(e).code), path).toBe('ENOENT');
    await client.writeFile('/after-restore.txt', 'new');
    expect((await client.readFile('/after-restore.txt')).toString()).toBe('new');
  });

  it('restores a SQLite backup onto PostgreSQL, and loads PostgreSQL\'s dump back into SQLite', async () => {
    // SQLite to start with, whatever FST_TEST_META says: this test chooses its engines itself.
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2, engine: 'sqlite' }));
    const master = cluster.masterAddress;
    let client = await clientOf(cluster);
    const files = await writeFiles(client, '/d');
    const backupFile = join(cluster.root, 'sqlite.fstbackup');
    const made = await runCli('fstadmin', ['--master', master, 'metadata', 'backup', backupFile]);
    expect(made.code, made.stderr).toBe(0);

    // SQLite to PostgreSQL: a new master on a new database from the SQLite backup.
    await client.close();
    await cluster.master.stop();
    await rm(cluster.masterDataDir, { recursive: true, force: true });
    const url = await pg.get().createDatabase();
    await cluster.startMaster(master, ['--meta', url, '--restore', backupFile]);
    await cluster.waitForChunkservers(3);
    expect((await adminStatus(master) as unknown as { engine: string }).engine).toBe('postgres');
    await repair(master);
    client = await clientOf(cluster);
    await expectFiles(client, files, '/d');
    await client.writeFile('/d/on-postgres.bin', randomBytes(MiB));
    files.set('/d/on-postgres.bin', sha256(await client.readFile('/d/on-postgres.bin')));

    // PostgreSQL to SQLite: its dump loaded into a new data directory, the identity beside it.
    const dumpFile = join(cluster.root, 'namespace.jsonl');
    const dumped = await runCli('fstadmin', ['--master', master, 'metadata', 'dump', dumpFile]);
    expect(dumped.code, dumped.stderr).toBe(0);
    await client.close();
    await cluster.master.stop();
    const old = `${cluster.masterDataDir}.old`;
    await rename(cluster.masterDataDir, old);
    const loaded = await runCli('fstadmin', ['metadata', 'load', dumpFile, '--data', cluster.masterDataDir]);
    expect(loaded.code, loaded.stderr).toBe(0);
    // Loading into PostgreSQL metadata that holds a namespace is refused, and changes nothing.
    const intoUsed = await runCli('fstadmin', ['metadata', 'load', dumpFile, '--data', join(cluster.root, 'unused'), '--meta', url]);
    expect(intoUsed.code).toBe(1);
    expect(intoUsed.stderr).toMatch(/already holds a namespace/);
    await copyIdentity(old, cluster.masterDataDir);
    await cluster.startMaster(master);
    await cluster.waitForChunkservers(3);
    expect((await adminStatus(master) as unknown as { engine: string }).engine).toBe('sqlite');
    client = await clientOf(cluster);
    await expectFiles(client, files, '/d');
    // New files get new chunk ids and inodes: the counters came along.
    await client.writeFile('/d/new.bin', randomBytes(MiB));
    expect((await client.stat('/d/new.bin')).size).toBe(MiB);
    expect(await runCli('fstadmin', ['--master', master, 'fsck']).then((r) => r.code)).toBe(0);
  });
});
