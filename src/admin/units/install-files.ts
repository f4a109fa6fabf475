/**
 * The files `fstadmin install-units` puts on a server, and how: unit files and the sysusers file
 * are ours and replaced on every run (upgrades re-render the commands); configs are the operator's
 * and are only created, never overwritten.
 */
import { constants } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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
}

/** The sysusers file's place on the target, for systemd-sysusers. */
export const SYSUSERS_TARGET = 'etc/sysusers.d/fst.conf';

/** /etc rather than /usr/lib: these are a local administrator's files, not a distribution package's. */
export const INSTALLED_FILES: readonly InstalledFileSpec[] = [
  { source: 'fst-master.service', target: 'etc/systemd/system/fst-master.service', kind: 'unit' },
  { source: 'fst-chunkserver@.service', target: 'etc/systemd/system/fst-chunkserver@.service', kind: 'unit' },
  { source: 'fst-mount@.service', target: 'etc/systemd/system/fst-mount@.service', kind: 'unit' },
  { source: 'fst.sysusers.conf', target: SYSUSERS_TARGET, kind: 'sysusers' },
  { source: 'master.toml', target: 'etc/fst/master.toml', kind: 'config' },
  // The example is one chunkserver instance's config: fst-chunkserver@disk1 reads it as it stands.
  { source: 'chunkserver.toml', target: 'etc/fst/chunkserver-disk1.toml', kind: 'config' },
  { source: 'mount.toml', target: 'etc/fst/mount.toml', kind: 'config' },
];

export type FileAction = 'written' | 'unchanged' | 'kept';

export interface InstalledFile {
  /** Absolute path, under the install root. */
  path: string;
  kind: FileKind;
  action: FileAction;
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
  return about(path, async () => {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const existing = await readIfExists(path);
    if (spec.kind === 'config') {
      if (existing !== undefined) return { path, kind: spec.kind, action: 'kept' };
      // Exclusive create: a config appearing meanwhile is still not overwritten.
      await writeFile(path, shipped, { mode: 0o644, flag: constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY });
      return { path, kind: spec.kind, action: 'written' };
    }
    const text = spec.kind === 'unit' ? renderUnit(shipped, source, o.command) : shipped;
    if (existing === text) return { path, kind: spec.kind, action: 'unchanged' };
    await replaceFile(path, text);
    return { path, kind: spec.kind, action: 'written' };
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
