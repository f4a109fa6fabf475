/**
 * The files `fstadmin install-units` puts on a server, and how: unit files and the sysusers file
 * are ours and replaced on every run (upgrades re-render the commands); configs are the operator's
 * and are only created, never overwritten.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { about } from '../../cli/errors.js';
import { renderUnit } from './render-unit.js';
import type { UnitTool } from './package-paths.js';

type FileKind = 'unit' | 'sysusers' | 'config';

interface InstalledFileSpec {
  /** Name in the package's systemd/ directory. */
  source: string;
  /** Path on the target system, relative to its root. */
  target: string;
  kind: FileKind;
  /** Permission bits of a new file. @default 0o644 */
  mode?: number;
  /** The daemon reading it runs as the fst user: install-units gives a new file to it (live system only). */
  ownedByFst?: boolean;
}

/** The sysusers file's place on the target, for systemd-sysusers. */
export const SYSUSERS_TARGET = 'etc/sysusers.d/fst.conf';

/** /etc rather than /usr/lib: these are a local administrator's files, not a distribution package's. */
export const INSTALLED_FILES: readonly InstalledFileSpec[] = [
  { source: 'fst-master.service', target: 'etc/systemd/system/fst-master.service', kind: 'unit' },
  { source: 'fst-chunkserver@.service', target: 'etc/systemd/system/fst-chunkserver@.service', kind: 'unit' },
  { source: 'fst-mount@.service', target: 'etc/systemd/system/fst-mount@.service', kind: 'unit' },
  { source: 'fst-gateway.service', target: 'etc/systemd/system/fst-gateway.service', kind: 'unit' },
  { source: 'fst.sysusers.conf', target: SYSUSERS_TARGET, kind: 'sysusers' },
  { source: 'master.toml', target: 'etc/fst/master.toml', kind: 'config' },
  // The example is one chunkserver instance's config: fst-chunkserver@disk1 reads it as it stands.
  { source: 'chunkserver.toml', target: 'etc/fst/chunkserver-disk1.toml', kind: 'config' },
  { source: 'mount.toml', target: 'etc/fst/mount.toml', kind: 'config' },
  { source: 'gateway.toml', target: 'etc/fst/gateway.toml', kind: 'config' },
  // Access key secrets: readable by the gateway (user fst) alone.
  { source: 'gateway-keys.toml', target: 'etc/fst/gateway-keys.toml', kind: 'config', mode: 0o600, ownedByFst: true },
];

export type FileAction = 'written' | 'unchanged' | 'kept';

export interface InstalledFile {
  /** Absolute path, under the install root. */
  path: string;
  kind: FileKind;
  action: FileAction;
  /** To be owned by the fst user (see InstalledFileSpec). */
  ownedByFst: boolean;
}

export interface InstallFilesOptions {
  /** The target system's root: / or a staging directory. */
  root: string;
  /** The package's systemd/ directory. */
  sourceDir: string;
  /** The argv that runs each tool on the target. */
  command: (tool: UnitTool) => string[];
  /** Told of each file once it is in place. */
  onFile?: (file: InstalledFile) => void;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Replaces `path` in one step, so systemd never reads a half-written unit. */
async function replaceFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.fst-new`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}

async function installOne(spec: InstalledFileSpec, o: InstallFilesOptions): Promise<InstalledFile> {
  const path = join(o.root, spec.target);
  const source = join(o.sourceDir, spec.source);
  const shipped = await about(source, () => readFile(source, 'utf8'));
  const done = (action: FileAction): InstalledFile => ({ path, kind: spec.kind, action, ownedByFst: spec.ownedByFst === true });
  return about(path, async () => {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const existing = await readIfExists(path);
    if (spec.kind === 'config') {
      if (existing !== undefined) return done('kept');
      // Exclusive create: a config appearing meanwhile is still not overwritten. The mode is
      // chmod'ed too, as the umask may have taken bits off (never added any).
      const mode = spec.mode ?? 0o644;
      await writeFile(path, shipped, { mode, flag: constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY });
      await chmod(path, mode);
      return done('written');
    }
    const text = spec.kind === 'unit' ? renderUnit(shipped, source, o.command) : shipped;
    if (existing === text) return done('unchanged');
    await replaceFile(path, text);
    return done('written');
  });
}

/** Installs every file, in INSTALLED_FILES order; stops at the first failure (a CliError naming the path). */
export async function installFiles(o: InstallFilesOptions): Promise<InstalledFile[]> {
  const done: InstalledFile[] = [];
  for (const spec of INSTALLED_FILES) {
    const file = await installOne(spec, o);
    o.onFile?.(file);
    done.push(file);
  }
  return done;
}
