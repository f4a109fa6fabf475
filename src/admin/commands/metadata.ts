/**
 * fstadmin metadata backup FILE [--json]: the master makes a metadata backup (its database's online
 * snapshot and the cluster's identity: docs/OPERATIONS.md "Metadata backups") while the cluster
 * serves, and it is copied here in pieces of 1 MiB to FILE, checked against the digest the master
 * computed, then renamed into place (FILE is never left half written).
 *
 * fstadmin metadata dump FILE: the namespace as JSON lines (master/db/dump.ts), from a snapshot the
 * master takes while it serves; `metadata load FILE --data DIR` puts one into the empty data
 * directory of a master that is not running (moving a namespace between engines and versions).
 *
 * fstadmin metadata verify FILE: checks a backup file here (every entry's digest and the whole
 * file's) and says what it holds; exit status 1 when it is not usable.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import type { fst } from '../../proto-gen/fst.js';
import { loadDumpInto } from '../../master/backup/load.js';
import { redactUrl } from '../../master/db/postgres.js';
import { toFsError } from '../../common/errors/to-errno.js';
import { checkBackupFile } from '../../common/backup/backup-format.js';
import { CliError, EXIT_FAILURE } from '../../cli/errors.js';
import type { CliIo } from '../../cli/program.js';
import { adminCall, printJson } from '../admin-rpc.js';

const PIECE = 1024 * 1024;
const BACKUP_TIMEOUT_MS = 60 * 60_000;

/** Copies backup or dump `made` from the master to `file` (via `file`.partial); throws if its digest differs. */
async function download(program: Command, io: CliIo, made: fst.IBackupInfo, file: string, check: (temp: string) => Promise<void>): Promise<void> {
  const size = Number(made.bytes);
  const temp = `${file}.partial`;
  const out = await open(temp, 'w', 0o600).catch((e: unknown) => {
    throw new CliError(`${file}: ${(e as Error).message}`, toFsError(e).code);
  });
  const digest = createHash('sha256');
  let ok = false;
  try {
    for (let offset = 0; offset < size;) {
      const { data } = await adminCall(program, io, AdminMethods.ReadBackup, { name: made.name, offset, length: PIECE });
      if (data.length === 0) throw new CliError(`backup ${made.name} ended at ${offset} of ${size} bytes`, 'EIO');
      await out.write(data);
      digest.update(data);
      offset += data.length;
    }
    await out.sync();
    ok = true;
  } finally {
    await out.close();
    if (!ok) await rm(temp, { force: true });
  }
  try {
    if (digest.digest('hex') !== made.sha256) throw new Error('its digest differs from the master\'s');
    await check(temp);
  } catch (e) {
    await rm(temp, { force: true });
    throw new CliError(`the copy of ${made.name} is damaged: ${(e as Error).message}`, 'EIO');
  }
  await rename(temp, file);
}

async function backup(program: Command, io: CliIo, file: string, json: boolean): Promise<void> {
  const made = (await adminCall(program, io, AdminMethods.BackupMetadata, {}, BACKUP_TIMEOUT_MS)).backup;
  if (!made) throw new CliError('the master made no backup', 'EIO');
  // The file's own last line carries the digest of what precedes it: the copy is checked whole.
  await download(program, io, made, file, async (temp) => void await checkBackupFile(temp));
  const size = Number(made.bytes);
  const summary = { file, name: made.name, createdMs: Number(made.createdMs), bytes: size, sha256: made.sha256 };
  if (json) return printJson(io, summary);
  io.stdout.write(`metadata backup of ${new Date(summary.createdMs).toISOString()} written to ${file} (${size} bytes, sha256 ${made.sha256})\n`);
}

async function dump(program: Command, io: CliIo, file: string, json: boolean): Promise<void> {
  const made = (await adminCall(program, io, AdminMethods.DumpMetadata, {}, BACKUP_TIMEOUT_MS)).backup;
  if (!made) throw new CliError('the master made no dump', 'EIO');
  await download(program, io, made, file, () => Promise.resolve());
  const summary = { file, name: made.name, createdMs: Number(made.createdMs), bytes: Number(made.bytes), sha256: made.sha256 };
  if (json) return printJson(io, summary);
  io.stdout.write(`namespace dump of ${new Date(summary.createdMs).toISOString()} written to ${file} (${summary.bytes} bytes, sha256 ${made.sha256})\n`);
}

async function load(io: CliIo, file: string, dataDir: string, meta: string | undefined): Promise<void> {
  let rows: number;
  try {
    rows = await loadDumpInto({ dataDir, meta }, file);
  } catch (e) {
    const err = toFsError(e);
    throw new CliError(err.message, err.code, EXIT_FAILURE);
  }
  io.stdout.write(`${file}: ${rows} rows loaded into ${meta === undefined ? dataDir : redactUrl(meta)}; copy the old data directory's tls/ and admin.credentials beside it, then start fst-master on it\n`);
}

async function verify(io: CliIo, file: string, json: boolean): Promise<void> {
  let checked;
  try {
    checked = await checkBackupFile(file);
  } catch (e) {
    const err = toFsError(e);
    throw new CliError(err.message, err.code, EXIT_FAILURE);
  }
  const { manifest } = checked;
  if (json) return printJson(io, { file, ok: true, created: new Date(manifest.created).toISOString(), schemaVersion: manifest.schemaVersion, files: manifest.files, sha256: checked.sha256 });
  io.stdout.write(`${file}: usable backup of ${new Date(manifest.created).toISOString()} (schema v${manifest.schemaVersion}): ` +
    `${manifest.files.map((f) => `${f.name} ${f.size} bytes`).join(', ')}\n`);
}

export function registerMetadata(program: Command, io: CliIo): void {
  const metadata = program.command('metadata').description("the master's metadata: backups, dumps, rebuild from the chunkservers");
  metadata.command('backup')
    .description('make a metadata backup now (while the cluster serves) and copy it to FILE')
    .argument('<file>', 'where to write it')
    .option('--json', 'print what was written as JSON')
    .action((file: string, opts: { json?: boolean }) => backup(program, io, file, opts.json ?? false));
  metadata.command('dump')
    .description('write the namespace as JSON lines to FILE (from a snapshot, while the cluster serves)')
    .argument('<file>', 'where to write it')
    .option('--json', 'print what was written as JSON')
    .action((file: string, opts: { json?: boolean }) => dump(program, io, file, opts.json ?? false));
  metadata.command('load')
    .description('load a namespace dump into the empty metadata of a master that is not running (a data directory, or a PostgreSQL database)')
    .argument('<file>', 'the dump file')
    .requiredOption('--data <dir>', "the new master's data directory")
    .option('--meta <url>', "the new master's PostgreSQL database (postgres://...), empty; without it, SQLite in --data")
    .action((file: string, opts: { data: string; meta?: string }) => load(io, file, opts.data, opts.meta));
  metadata.command('verify')
    .description('check a metadata backup file')
    .argument('<file>', 'the backup file')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { json?: boolean }) => verify(io, file, opts.json ?? false));
}
