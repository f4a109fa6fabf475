/**
 * fstadmin credentials create|list|revoke: who may use the cluster (Ceph's `ceph auth`, MooseFS's
 * mfsexports.cfg). The master's CA signs each credential; the master records what it may do.
 *
 *   fstadmin credentials create NAME [--path DIR] [--read-only] [--map-root U:G | --map-all U:G]
 *                                    [--admin | --chunkserver] --out FILE
 *   fstadmin credentials list [--json]
 *   fstadmin credentials revoke NAME          refused from the next call on, open connections too
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AdminMethods } from '../../common/rpc/services.js';
import { fst } from '../../proto-gen/fst.js';
import { CliError, usageError } from '../../cli/errors.js';
import type { CliIo } from '../../cli/program.js';
import { toErrno } from '../../common/errors/to-errno.js';
import { adminCall, printJson } from '../admin-rpc.js';

const ID_PAIR = /^\d{1,10}:\d{1,10}$/;

interface CreateOptions {
  path?: string; readOnly?: boolean; mapRoot?: string; mapAll?: string; admin?: boolean; chunkserver?: boolean; out: string; json?: boolean;
}

function describe(c: fst.ICredentialInfo): string {
  const limits = [
    c.path && c.path !== '/' ? `path ${c.path}` : '',
    c.readOnly ? 'read-only' : '',
    c.mapRoot ? `root as ${c.mapRoot}` : '',
    c.mapAll ? `everyone as ${c.mapAll}` : '',
    c.role === 'client' && !c.mapRoot && !c.mapAll ? 'root as nobody' : '',
  ].filter(Boolean);
  const state = Number(c.revokedMs) ? `revoked ${new Date(Number(c.revokedMs)).toISOString()}` : 'active';
  return `${c.name ?? ''}\t${c.role ?? ''}\t${state}\t${limits.join(', ') || '-'}`;
}

export function registerCredentials(program: Command, io: CliIo): void {
  const cmd = program.command('credentials').description('credentials: create, list and revoke who may use the cluster');

  cmd.command('create')
    .description('issue a credential and write it (certificate and private key) to a file, mode 0600')
    .argument('<name>', "the credential's name (letters, digits, '.', '_', '-')")
    .option('--path <dir>', 'confine it to this subtree, which it sees as /', '/')
    .option('--read-only', 'refuse every change it asks for (EROFS)')
    .option('--map-root <uid:gid>', 'its root callers act as uid:gid (default: nobody, 65534:65534)')
    .option('--map-all <uid:gid>', 'every caller acts as uid:gid')
    .option('--admin', 'an administrator: fstadmin, the whole tree, root stays root, may run chunkservers')
    .option('--chunkserver', 'for a chunkserver joining the cluster')
    .requiredOption('--out <file>', 'where to write the credential (must not exist)')
    .option('--json', 'print what was recorded as JSON')
    .action(async (name: string, o: CreateOptions) => {
      if (o.admin && o.chunkserver) throw usageError('--admin and --chunkserver exclude each other');
      if (o.mapRoot && o.mapAll) throw usageError('--map-root and --map-all exclude each other');
      for (const [flag, v] of [['--map-root', o.mapRoot], ['--map-all', o.mapAll]] as const) {
        if (v !== undefined && !ID_PAIR.test(v)) throw usageError(`${flag} takes UID:GID (numbers), not '${v}'`);
      }
      const role = o.admin ? 'admin' : o.chunkserver ? 'chunkserver' : 'client';
      const res = await adminCall(program, io, AdminMethods.CreateCredential, {
        credential: { name, role, path: o.path ?? '/', readOnly: !!o.readOnly, mapRoot: o.mapRoot ?? '', mapAll: o.mapAll ?? '' },
      });
      try {
        await writeFile(o.out, res.credentialsFile, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        // The master recorded it: without the file nobody holds it, so it is revoked again.
        await adminCall(program, io, AdminMethods.RevokeCredential, { name }).catch(() => undefined);
        throw new CliError(`cannot write ${o.out} (the credential was revoked again): ${(e as Error).message}`, toErrno(e));
      }
      if (o.json) return printJson(io, fst.CredentialInfo.toObject(fst.CredentialInfo.fromObject(res.credential ?? {}), { longs: Number, defaults: true }));
      io.stdout.write(`${describe(res.credential ?? {})}\nwritten to ${o.out}: pass it with --credentials (or FST_CREDENTIALS)\n`);
    });

  cmd.command('list')
    .description('the credentials this cluster issued, revoked ones included')
    .option('--json', 'print the answer as JSON')
    .action(async (o: { json?: boolean }) => {
      const res = await adminCall(program, io, AdminMethods.ListCredentials, {});
      if (o.json) return printJson(io, fst.ListCredentialsResponse.toObject(res, { longs: Number, defaults: true }));
      io.stdout.write('NAME\tROLE\tSTATE\tLIMITS\n');
      for (const c of res.credentials) io.stdout.write(`${describe(c)}\n`);
    });

  cmd.command('revoke')
    .description('revoke a credential: every call made with it is refused from now on')
    .argument('<name>', "the credential's name")
    .action(async (name: string) => {
      await adminCall(program, io, AdminMethods.RevokeCredential, { name });
      io.stdout.write(`${name}: revoked\n`);
    });
}
