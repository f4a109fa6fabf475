/**
 * fstadmin install-units: sets a server up to run FST under systemd (see docs/DEPLOY.md).
 *
 *   fstadmin install-units [--root DIR] [--prefix DIR] [--enable UNIT...] [--no-enable]
 *
 * Writes the units (systemd/*.service, their /usr/local/bin/... commands rewritten to this
 * installation's) to /etc/systemd/system, the sysusers file to /etc/sysusers.d/fst.conf and the
 * example configs to /etc/fst (an existing config is kept, never overwritten; the gateway's access
 * keys file is mode 0600). On the live system (no --root) it then creates the fst user, gives it
 * a keys file it just wrote, and, when systemd runs, reloads it and enables the units given to
 * --enable (master, chunkserver@NAME, mount@ESCAPED-PATH, gateway). --no-enable leaves systemctl
 * alone entirely. Prints what it did and the commands that come next.
 * Needs no master address; needs root unless --root points somewhere writable.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, usageError } from '../../cli/errors.js';
import type { CliIo } from '../../cli/program.js';
import { INSTALLED_FILES, SYSUSERS_TARGET, installFiles, type InstalledFile } from '../units/install-files.js';
import { packageRoot, shippedSystemdDir, toolCommand, type UnitTool } from '../units/package-paths.js';
import { chownToFst, createFstUser, reloadAndEnable, systemdIsRunning } from '../units/system-setup.js';

interface InstallUnitsOptions {
  root: string;
  prefix?: string;
  /** undefined: enable nothing; a list: enable these; false (--no-enable): no systemctl at all. */
  enable?: string[] | false;
}

/** `master`, `gateway`, `chunkserver@disk1`, `fst-mount@mnt-fst.service`... as a full unit name. */
export function unitName(given: string): string {
  const m = /^(?:fst-)?(master|gateway|(?:chunkserver|mount)@[^@/\s]+?)(?:\.service)?$/.exec(given);
  if (!m) {
    throw usageError(`install-units: unknown unit '${given}' (expected master, gateway, chunkserver@NAME or mount@ESCAPED-PATH, ` +
      'e.g. mount@mnt-fst; systemd-escape --path gives the escaped form)');
  }
  return `fst-${m[1]}.service`;
}

/**
 * ProtectHome=yes in the master, chunkserver and gateway units hides /home, /root and /run/user from them:
 * a node or a package installed there (nvm, a checkout in a home directory) cannot even be started.
 */
export function hiddenFromUnits(paths: readonly string[]): string[] {
  return paths.filter((p) => /^\/(home|root|run\/user)(\/|$)/.test(p));
}

function protectHomeWarnings(command: (tool: UnitTool) => string[]): string[] {
  const sandboxed: UnitTool[] = ['fst-master', 'fst-chunkserver', 'fst-gateway'];
  const paths = new Set(sandboxed.flatMap(command));
  return hiddenFromUnits([...paths]).map((path) => `warning: ${path} is under a home directory, which ProtectHome=yes ` +
    'hides from fst-master, fst-chunkserver and fst-gateway: install node and FST elsewhere (/usr/local, /opt) and run install-units again');
}

function formatFile(f: InstalledFile): string {
  const note = f.action === 'kept' ? '  (exists: not overwritten)' : '';
  return `  ${f.action.padEnd(10)} ${f.path}${note}`;
}

function nextSteps(root: string, files: InstalledFile[]): string[] {
  const configs = files.filter((f) => f.kind === 'config').map((f) => f.path);
  return [
    '',
    'next:',
    `  edit ${configs.join(', ')}`,
    `    (one ${resolve(root, 'etc/fst')}/chunkserver-NAME.toml per chunkserver on this machine; its data directories owned by fst:fst)`,
    '  systemctl enable --now fst-master               # on the master machine',
    '  systemctl enable --now fst-chunkserver@disk1    # one per chunkserver-NAME.toml',
    '  systemctl enable --now fst-mount@mnt-fst        # mounts /mnt/fst (systemd-escape --path DIR for others)',
    '  systemctl enable --now fst-gateway              # HTTP: REST, S3, dashboard; access keys in gateway-keys.toml (docs/GATEWAY.md)',
    '  journalctl -u fst-master -o cat | jq            # logs: one JSON object per line',
  ];
}

async function setUpSystem(o: InstallUnitsOptions, live: boolean, units: string[], files: InstalledFile[]): Promise<string[]> {
  const root = resolve(o.root);
  const lines: string[] = [];
  // A file just written that the fst user's daemon must read, and no one else (the gateway's keys).
  const forFst = files.filter((f) => f.ownedByFst && f.action === 'written').map((f) => f.path);
  if (live) {
    lines.push(await createFstUser(resolve(root, SYSUSERS_TARGET)));
    for (const path of forFst) lines.push(await chownToFst(path));
  } else {
    lines.push(`user fst: not created (--root): systemd-sysusers creates it from /${SYSUSERS_TARGET} when that system boots`);
    for (const path of forFst) lines.push(`${path}: not given to user fst (--root): chown fst:fst it once the user exists (the gateway reads it as fst)`);
  }
  if (o.enable === false) lines.push('systemd: left alone (--no-enable)');
  else if (!live) lines.push('systemd: not reloaded (--root)');
  else if (!systemdIsRunning()) lines.push('systemd: not running on this machine, nothing reloaded or enabled');
  else lines.push(...await reloadAndEnable(units));
  return lines;
}

export function registerInstallUnits(program: Command, io: CliIo): void {
  program.command('install-units')
    .description('install the systemd units, the fst system user and example configs in /etc/fst (run as root on each server)')
    .option('--root <dir>', 'install under DIR instead of / (an image being built, a test); creates no user and runs no systemctl', '/')
    .option('--prefix <dir>', 'run the tools as DIR/bin/fst-master... (e.g. /usr/local after npm install -g) instead of this node and package')
    .option('--enable <unit...>', 'also enable these units (not started): master, gateway, chunkserver@NAME, mount@ESCAPED-PATH')
    .option('--no-enable', 'do not run systemctl at all (no daemon-reload)')
    .action(async (o: InstallUnitsOptions) => {
      const root = resolve(o.root);
      const live = root === '/';
      const units = (o.enable || []).map(unitName);
      if (units.length > 0 && !live) throw usageError('install-units: --enable needs the live system (no --root)');
      if (live && process.getuid?.() !== 0) {
        throw new CliError(`${resolve(root, INSTALLED_FILES[0]!.target)} (run as root, or use --root DIR)`, 'EACCES');
      }
      const pkg = packageRoot();
      const binPrefix = o.prefix === undefined ? undefined : resolve(o.prefix);
      io.stdout.write(`installing into ${root}:\n`);
      // Printed as they happen, so a failure part way still shows what was done.
      const command = (tool: UnitTool): string[] => toolCommand(tool, { binPrefix, root: pkg });
      const files = await installFiles({
        root,
        sourceDir: shippedSystemdDir(pkg),
        command,
        onFile: (f) => io.stdout.write(formatFile(f) + '\n'),
      });
      for (const line of await setUpSystem(o, live, units, files)) io.stdout.write(line + '\n');
      for (const line of protectHomeWarnings(command)) io.stdout.write(line + '\n');
      io.stdout.write(nextSteps(root, files).join('\n') + '\n');
    });
}
