/**
 * Metadata backups with real processes: a backup made while writers run, the master's data
 * directory then destroyed, a new master started from the backup (`--restore`) with the cluster's
 * identity intact (the chunkservers' credentials still work), `fsck --repair` reconciling it with
 * the chunkservers. Every file closed before the backup reads back by sha256 (one truncated and
 * written after it, with its newest data: the chunk versions the restored metadata never issued
 * are adopted until fsck --repair reconciles it); the files made after it come back from their
 * chunks' owner records with `metadata rebuild` (run before the repair, which collects what is
 * left). Also: automatic backups and how many are kept, the status line, a damaged backup refused,
 * a restore never overwriting a database.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { toFsError } from '../../src/common/errors/to-errno.js';
import { backupUnderWrites } from '../helpers/background-writer.js';
import { Cleanup } from '../helpers/cleanup.js';
import { adminStatus, runCli } from '../helpers/cli.js';
import { copyIdentity, loadCredentialsFor } from '../helpers/credentials.js';
import { DaemonProcess } from '../helpers/daemon-process.js';
import { ON_POSTGRES } from '../helpers/meta-engine.js';
import { sha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster } from '../helpers/process-cluster.js';

const MiB = 1024 * 1024;
const cleanup = new Cleanup();
afterEach(() => cleanup.run());

interface FsckJson { problems: { kind: string; repaired: boolean; chunkId: number }[]; repaired: number }

// SQLite only: its steps are a SQLite master's (backups holding meta.sqlite3, --restore and
// `metadata load --data` into a data directory); a master on PostgreSQL backs up, restores and
// loads through its database, tested both ways by metadata-backup-engines.test.ts.
describe.skipIf(ON_POSTGRES)('metadata backup and restore (SQLite files: not run on PostgreSQL)', () => {
  it('restores a backup taken under writes; fsck --repair reconciles; files closed before it read back', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2, masterArgs: ['--backup-interval', '0.02', '--backup-keep', '2'] }));
    const master = cluster.masterAddress;
    const backupFile = join(cluster.root, 'meta.fstbackup');
    let client = new FstClient({ master, credentials: await loadCredentialsFor(master) });
    await client.connect();
    cleanup.add(() => client.close().catch(() => undefined));

    // Files closed before the backup: empty, inline-sized, one chunk, two chunks.
    const before = new Map<string, string>();
    for (const [path, size] of [['/a/empty', 0], ['/a/small.txt', 10], ['/a/mid.bin', 100 * 1024], ['/a/b/five.bin', 5 * MiB], ['/big/seventy.bin', 70 * MiB]] as const) {
      const data = randomBytes(size);
      await client.mkdirp(path.slice(0, path.lastIndexOf('/')) || '/');
      await client.writeFile(path, data);
      before.set(path, sha256(data));
    }

    // Writers go on while the backup is taken.
    const taken = await backupUnderWrites(client, master, backupFile, (n) => 256 * 1024 + (n % 7) * 1000);
    const { backup, closed: closedAt } = taken;
    for (const [path, sha] of taken.before) before.set(path, sha);
    // A file changed after the backup in a way that moves its chunk's version (a truncate does):
    // the restored metadata never issued that version, and adopts it until fsck --repair.
    const five = Buffer.from(await client.readFile('/a/b/five.bin'));
    await client.truncate('/a/b/five.bin', 4 * MiB);
    const tail = randomBytes(MiB);
    const h = await client.open('/a/b/five.bin', { write: true });
    await h.write(4 * MiB, tail);
    await h.close();
    tail.copy(five, 4 * MiB);
    before.set('/a/b/five.bin', sha256(five));
    // Files begun after the backup call returned: made after its snapshot, for sure.
    const after = taken.after;

    // The file checks itself; a damaged copy is refused.
    expect((await runCli('fstadmin', ['metadata', 'verify', backupFile])).code).toBe(0);
    const damaged = join(cluster.root, 'damaged.fstbackup');
    const bytes = await readFile(backupFile);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(damaged, bytes);
    const refused = await runCli('fstadmin', ['metadata', 'verify', damaged]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/damaged|digest/);

    // The status names the last backup; automatic ones keep to backup-keep.
    const status = await adminStatus(master) as unknown as { engine: string; lastBackup: { createdMs: number } | null };
    expect(status.engine).toBe('sqlite');
    expect(status.lastBackup?.createdMs).toBeGreaterThanOrEqual(backup.createdMs);
    await waitFor('automatic backups, at most 2 kept', async () => {
      const names = (await readdir(join(cluster.masterDataDir, 'backups'))).filter((f) => f.endsWith('.fstbackup'));
      return names.length === 2;
    });

    // The master's machine is lost: its whole data directory goes.
    await client.close();
    await cluster.master.kill();
    await rm(cluster.masterDataDir, { recursive: true, force: true });
    await cluster.startMaster(master, ['--restore', backupFile]);
    await cluster.waitForChunkservers(3);
    const restored = await adminStatus(master) as unknown as { restoredFrom: string };
    expect(restored.restoredFrom).toContain(backupFile);

    // A restore never overwrites a database.
    const again = await DaemonProcess.start('fst-master-twice', 'fst-master.js', ['--data', cluster.masterDataDir, '--listen', '127.0.0.1:0', '--restore', backupFile]).then(
      async (d) => {
        await d.stop();
        return 'started';
      }, (e: unknown) => String(e));
    expect(again).toMatch(/already holds a metadata database/);

    // Files made after the backup come back from their chunks' owner records, before any repair.
    const rebuilt = await runCli('fstadmin', ['--master', master, 'metadata', 'rebuild', '--into', '/after-backup', '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);

    // fsck --repair finds the chunks of files made after the backup (orphans) and collects them.
    const fsck = await waitFor('fsck --repair to leave the cluster clean', async () => {
      const r = await runCli('fstadmin', ['--master', master, 'fsck', '--repair', '--json']);
      return JSON.parse(r.stdout) as FsckJson;
    });
    expect(fsck.problems.every((p) => p.repaired)).toBe(true);
    await waitFor('a second fsck to find nothing', async () => (await runCli('fstadmin', ['--master', master, 'fsck'])).code === 0);
    expect((await adminStatus(master) as unknown as { restoredFrom: string }).restoredFrom).toBe('');

    client = new FstClient({ master, credentials: await loadCredentialsFor(master) });
    await client.connect();
    for (const [path, sha] of before) expect(sha256(await client.readFile(path)), path).toBe(sha);
    expect(after.length).toBeGreaterThan(0);
    for (const path of after) {
      expect(await client.stat(path).then(() => 'present', (e: unknown) => toFsError(e).code), path).toBe('ENOENT');
      // Recovered by the rebuild under its last known path (these are larger than inline files).
      expect(sha256(await client.readFile(`/after-backup${path}`)), path).toBe(closedAt.get(path)!.sha);
    }
    // And the restored cluster takes writes.
    await client.writeFile('/after-restore.txt', 'new');
    expect((await client.readFile('/after-restore.txt')).toString()).toBe('new');
  });

  it('moves a namespace through a dump into a new data directory', async () => {
    const cluster = cleanup.stops(await startProcessCluster({ chunkservers: 3, replication: 2 }));
    const master = cluster.masterAddress;
    let client = new FstClient({ master, credentials: await loadCredentialsFor(master) });
    await client.connect();
    cleanup.add(() => client.close().catch(() => undefined));
    const files = new Map<string, string>();
    for (const [path, size] of [['/d/inline.txt', 100], ['/d/e/two-chunks.bin', 66 * MiB], ['/d/empty', 0]] as const) {
      const data = randomBytes(size);
      await client.mkdirp(path.slice(0, path.lastIndexOf('/')));
      await client.writeFile(path, data);
      files.set(path, sha256(data));
    }
    await client.symlink('e/two-chunks.bin', '/d/link');
    await client.setxattr('/d/inline.txt', 'user.color', 'blue');
    const dumpFile = join(cluster.root, 'namespace.jsonl');
    const dumped = await runCli('fstadmin', ['--master', master, 'metadata', 'dump', dumpFile, '--json']);
    expect(dumped.code, dumped.stderr).toBe(0);
    expect((await readFile(dumpFile, 'utf8')).split('\n')[0]).toContain('"format":"fst-metadata-dump"');

    // A new data directory from the dump, with the old identity beside it.
    await client.close();
    await cluster.master.stop();
    const old = `${cluster.masterDataDir}.old`;
    await rename(cluster.masterDataDir, old);
    const loaded = await runCli('fstadmin', ['metadata', 'load', dumpFile, '--data', cluster.masterDataDir]);
    expect(loaded.code, loaded.stderr).toBe(0);
    const again = await runCli('fstadmin', ['metadata', 'load', dumpFile, '--data', cluster.masterDataDir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a metadata database/);
    await copyIdentity(old, cluster.masterDataDir);
    await cluster.startMaster(master);
    await cluster.waitForChunkservers(3);
    client = new FstClient({ master, credentials: await loadCredentialsFor(master) });
    await client.connect();
    for (const [path, sha] of files) expect(sha256(await client.readFile(path)), path).toBe(sha);
    expect(await client.readlink('/d/link')).toBe('e/two-chunks.bin');
    expect((await client.getxattr('/d/inline.txt', 'user.color')).toString()).toBe('blue');
    // And it goes on: new files get new chunk ids (the counters came along).
    await client.writeFile('/d/new.bin', randomBytes(MiB));
    expect((await client.stat('/d/new.bin')).size).toBe(MiB);
    expect(await runCli('fstadmin', ['--master', master, 'fsck']).then((r) => r.code)).toBe(0);
  });
});
