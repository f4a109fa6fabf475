/**
 * The master's metadata backups (backup-format.ts): on demand (`fstadmin metadata backup`, through
 * AdminService.BackupMetadata and ReadBackup) and every `backup-interval`, into `backup-dir`,
 * keeping the newest `backup-keep`. Each is the metadata's online snapshot (taken while writes go
 * on: SQLite's database file, or a dump of PostgreSQL's) plus the cluster's identity files, written under a temporary name, fsynced
 * and renamed. One backup runs at a time; a request meanwhile waits for it and gets its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { MasterDb } from '../db/database.js';
import { writeBackupFile } from '../../common/backup/backup-format.js';

export interface BackupInfo {
  name: string;
  created: number;
  bytes: number;
  sha256: string;
}

export interface MetadataBackupsOptions {
  db: MasterDb;
  dataDir: string;
  /** Where backups go. @default <dataDir>/backups */
  dir?: string;
  /** Between automatic backups; 0: none. */
  intervalMs: number;
  /** Backups kept in `dir` (the oldest go first). */
  keep: number;
  log: Logger;
}

const NAME = /^fst-meta-\d{8}T\d{9}Z-[0-9a-f]{6}\.fstbackup$/;
const DUMP_NAME = /^fst-dump-\d{8}T\d{9}Z-[0-9a-f]{6}\.jsonl$/;
/** Dumps kept in the backup directory (each is copied away by fstadmin right after it is made). */
const DUMPS_KEPT = 2;
/** Identity files of a data directory, beside the database (master/security/cluster-tls.ts). */
export const IDENTITY_DIRS = ['tls'];
export const IDENTITY_FILES = ['admin.credentials'];

async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) h.update(chunk);
  return h.digest('hex');
}

function stampOf(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '').replace(/(\d{8}T\d{6})(\d{3})Z/, '$1$2Z');
}

export class MetadataBackups {
  readonly dir: string;
  last: BackupInfo | undefined;
  lastError: string | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: MetadataBackupsOptions) {
    this.dir = o.dir ?? join(o.dataDir, 'backups');
  }

  /** Learns the newest backup already in `dir` (made before a restart), for the status. */
  async load(): Promise<void> {
    const newest = (await this.list()).pop();
    if (!newest) return;
    const path = join(this.dir, newest);
    const st = await stat(path);
    const stamp = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(newest);
    const created = stamp ? Date.UTC(+stamp[1]!, +stamp[2]! - 1, +stamp[3]!, +stamp[4]!, +stamp[5]!, +stamp[6]!, +stamp[7]!) : st.mtimeMs;
    // Its digest is not read at start (a backup may be gigabytes): unknown until the next one.
    this.last = { name: newest, created, bytes: st.size, sha256: '' };
  }

  /** Starts the automatic backups (none with interval 0). */
  start(): void {
    if (this.o.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.make().catch((err: unknown) => this.o.log.error('automatic metadata backup failed', { err }));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Makes one backup now (after any running one); then keeps only the newest `keep`. */
  make(): Promise<BackupInfo> {
    return this.serially(() => this.makeNow());
  }

  /** Runs `fn` after the backup or dump under way, if any: one snapshot at a time. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.running.then(fn, fn);
    this.running = next.catch(() => undefined);
    return next;
  }

  private async makeNow(): Promise<BackupInfo> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const created = Date.now();
    const name = `fst-meta-${stampOf(created)}-${randomBytes(3).toString('hex')}.fstbackup`;
    const entry = this.o.db.snapshotEntry;
    const snapshot = join(this.dir, `.${name}.${entry}`);
    const temp = join(this.dir, `.${name}.tmp`);
    try {
      const schemaVersion = await this.o.db.snapshot(snapshot);
      const files = [{ name: entry, mode: 0o600, path: snapshot }, ...(await this.identityFiles())];
      await writeBackupFile(temp, created, schemaVersion, files);
      const sha256 = await fileSha256(temp);
      await rename(temp, join(this.dir, name));
      const dirHandle = await open(this.dir, 'r');
      await dirHandle.sync().finally(() => dirHandle.close());
      const info = { name, created, bytes: (await stat(join(this.dir, name))).size, sha256 };
      this.last = info;
      this.lastError = undefined;
      this.o.log.info('metadata backup made', { ...info, dir: this.dir });
      await this.prune();
      return info;
    } catch (e) {
      this.lastError = `${new Date(created).toISOString()}: ${(e as Error).message}`;
      throw e;
    } finally {
      await rm(snapshot, { force: true });
      await rm(temp, { force: true });
    }
  }

  private async identityFiles(): Promise<{ name: string; mode: number; path: string }[]> {
    const out: { name: string; mode: number; path: string }[] = [];
    for (const d of IDENTITY_DIRS) {
      const dir = join(this.o.dataDir, d);
      if (!existsSync(dir)) continue;
      for (const f of (await readdir(dir)).sort()) {
        const path = join(dir, f);
        const st = await stat(path);
        if (st.isFile()) out.push({ name: `${d}/${f}`, mode: st.mode & 0o777, path });
      }
    }
    for (const f of IDENTITY_FILES) {
      const path = join(this.o.dataDir, f);
      if (existsSync(path)) out.push({ name: f, mode: (await stat(path)).mode & 0o777, path });
    }
    return out;
  }

  /** The backups in `dir`, oldest first. */
  async list(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    return (await readdir(this.dir)).filter((n) => NAME.test(n)).sort();
  }

  private async prune(): Promise<void> {
    const all = await this.list();
    for (const n of all.slice(0, Math.max(0, all.length - this.o.keep))) {
      await rm(join(this.dir, n), { force: true });
      this.o.log.info('old metadata backup removed', { name: n });
    }
  }

  /** A JSON-lines dump of the namespace (db/dump.ts) from a snapshot, in `dir`, for ReadBackup. */
  dump(): Promise<BackupInfo> {
    return this.serially(() => this.dumpNow());
  }

  private async dumpNow(): Promise<BackupInfo> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const created = Date.now();
    const name = `fst-dump-${stampOf(created)}-${randomBytes(3).toString('hex')}.jsonl`;
    const path = join(this.dir, name);
    try {
      await this.o.db.dump(path, created);
    } catch (e) {
      await rm(path, { force: true });
      throw e;
    }
    const dumps = (await readdir(this.dir)).filter((n) => DUMP_NAME.test(n)).sort();
    for (const n of dumps.slice(0, Math.max(0, dumps.length - DUMPS_KEPT))) await rm(join(this.dir, n), { force: true });
    const info = { name, created, bytes: (await stat(path)).size, sha256: await fileSha256(path) };
    this.o.log.info('metadata dump made', { ...info, dir: this.dir });
    return info;
  }

  /** Up to `length` bytes at `offset` of backup or dump `name` (AdminService.ReadBackup). */
  async read(name: string, offset: number, length: number): Promise<Buffer> {
    if (!NAME.test(name) && !DUMP_NAME.test(name)) throw new FsError('EINVAL', `'${name}' is not a backup name`);
    const path = join(this.dir, name);
    if (!existsSync(path)) throw new FsError('ENOENT', `no backup '${name}' (removed by backup-keep?)`);
    const h = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(length, 1024 * 1024));
      const { bytesRead } = await h.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  }
}
