/**
 * The metadata backup file: one self-checking file holding what a master needs to come back as the
 * same cluster: a consistent copy of its SQLite database and its identity (the CA, the token key,
 * the master's and the first admin's credentials).
 *
 *   FSTBACKUP 1\n
 *   {"created":..., "schemaVersion":..., "files":[{"name","mode","size","sha256"}, ...]}\n
 *   <the files' bytes, one after another, in that order>
 *   \nSHA256 <hex of every byte before this line>\n
 *
 * Files are streamed in and out (a database of millions of files is gigabytes), and reading checks
 * the whole file's digest and every entry's before anything is restored from it: a truncated or
 * damaged backup is refused. Names are relative paths inside a master's data directory, checked
 * on reading (no absolute paths, no "..").
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { FsError } from '../errors/errno.js';

export const BACKUP_MAGIC = 'FSTBACKUP 1\n';
const TAIL_BYTES = 8 + 64 + 1; // "\nSHA256 " + 64 hex digits + "\n"

export interface BackupEntry {
  /** Path inside the data directory, e.g. "meta.sqlite3" or "tls/ca.key". */
  name: string;
  mode: number;
  size: number;
  sha256: string;
}

export interface BackupManifest {
  /** Unix ms the database snapshot was taken. */
  created: number;
  /** The database's schema version (PRAGMA user_version). */
  schemaVersion: number;
  files: BackupEntry[];
}

export function checkEntryName(name: string): void {
  if (name === '' || name.startsWith('/') || name.split('/').some((s) => s === '' || s === '.' || s === '..') || name.includes('\0')) {
    throw new FsError('EINVAL', `backup entry name '${name}' is not a relative path inside a data directory`);
  }
}

async function hashFile(path: string, into?: Hash): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    h.update(chunk);
    into?.update(chunk);
  }
  return h.digest('hex');
}

/** Writes a backup of `files` (paths on this machine, stored under `name`) to `dest`; its sha256. */
export async function writeBackupFile(dest: string, created: number, schemaVersion: number, files: { name: string; mode: number; path: string }[]): Promise<string> {
  const entries: BackupEntry[] = [];
  for (const f of files) {
    checkEntryName(f.name);
    entries.push({ name: f.name, mode: f.mode, size: (await stat(f.path)).size, sha256: await hashFile(f.path) });
  }
  const head = Buffer.from(`${BACKUP_MAGIC}${JSON.stringify({ created, schemaVersion, files: entries } satisfies BackupManifest)}\n`);
  const whole = createHash('sha256').update(head);
  const out = await open(dest, 'wx', 0o600);
  try {
    await out.write(head);
    for (const [i, f] of files.entries()) {
      let written = 0;
      for await (const chunk of createReadStream(f.path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
        whole.update(chunk);
        await out.write(chunk);
        written += chunk.length;
      }
      if (written !== entries[i]!.size) throw new FsError('EIO', `${f.path} changed while it was backed up`);
    }
    const digest = whole.digest('hex');
    await out.write(`\nSHA256 ${digest}\n`);
    await out.sync();
    return digest;
  } finally {
    await out.close();
  }
}

/** Reads and checks a backup file's manifest and digests (the whole file is read once). */
export async function checkBackupFile(path: string): Promise<{ manifest: BackupManifest; dataStart: number; sha256: string; size: number }> {
  const bad = (why: string): FsError => new FsError('EINVAL', `${path} is not a usable FST metadata backup: ${why}`);
  const size = (await stat(path)).size;
  const f = await open(path, 'r');
  let manifest: BackupManifest;
  let dataStart: number;
  let claimed: string;
  try {
    const first = Buffer.alloc(Math.min(size, 1024 * 1024));
    await f.read(first, 0, first.length, 0);
    if (first.subarray(0, BACKUP_MAGIC.length).toString('latin1') !== BACKUP_MAGIC) throw bad('it does not start with FSTBACKUP 1');
    const nl = first.indexOf(0x0a, BACKUP_MAGIC.length);
    if (nl < 0) throw bad('no manifest line');
    try {
      manifest = JSON.parse(first.subarray(BACKUP_MAGIC.length, nl).toString('utf8')) as BackupManifest;
    } catch {
      throw bad('the manifest is not JSON');
    }
    if (!Array.isArray(manifest.files) || typeof manifest.created !== 'number') throw bad('the manifest lacks its files or its date');
    dataStart = nl + 1;
    const tail = Buffer.alloc(TAIL_BYTES);
    await f.read(tail, 0, TAIL_BYTES, Math.max(0, size - TAIL_BYTES));
    const m = /^\nSHA256 ([0-9a-f]{64})\n$/.exec(tail.toString('latin1'));
    if (!m) throw bad('no checksum line at the end (the file is truncated?)');
    claimed = m[1]!;
  } finally {
    await f.close();
  }
  const listed = manifest.files.reduce((n, e) => n + e.size, 0);
  if (dataStart + listed + TAIL_BYTES !== size) throw bad('its length does not match its manifest (truncated?)');
  for (const e of manifest.files) checkEntryName(e.name);
  // The whole file's digest, then each entry's as it goes by.
  const whole = createHash('sha256');
  let entry = 0;
  let inEntry = 0;
  let entryHash = createHash('sha256');
  let pos = 0;
  for await (const chunk of createReadStream(path, { end: size - TAIL_BYTES - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    let c = chunk;
    if (pos < dataStart) {
      const skip = Math.min(c.length, dataStart - pos);
      c = c.subarray(skip);
      pos += skip;
    }
    while (c.length > 0 && entry < manifest.files.length) {
      const e = manifest.files[entry]!;
      const take = Math.min(c.length, e.size - inEntry);
      entryHash.update(c.subarray(0, take));
      inEntry += take;
      pos += take;
      c = c.subarray(take);
      if (inEntry === e.size) {
        if (entryHash.digest('hex') !== e.sha256) throw bad(`entry ${e.name} does not match its digest`);
        entry++;
        inEntry = 0;
        entryHash = createHash('sha256');
      }
    }
  }
  // Entries of zero bytes never saw a chunk.
  for (; entry < manifest.files.length && manifest.files[entry]!.size === 0; entry++) {
    if (createHash('sha256').digest('hex') !== manifest.files[entry]!.sha256) throw bad(`entry ${manifest.files[entry]!.name} does not match its digest`);
  }
  if (whole.digest('hex') !== claimed) throw bad('its checksum does not match (the file is damaged)');
  return { manifest, dataStart, sha256: claimed, size };
}
