/**
 * Where this FST installation lives: the package root (a checkout or a global npm install), its
 * shipped systemd/ directory, and the commands that run its tools, for the units install-units
 * writes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DAEMON_BINS, DAEMON_NODE_FLAGS } from '../../common/lifecycle/daemon-node-flags.js';

/** The tools the shipped units run, by the name they have in /usr/local/bin. */
export const UNIT_TOOLS = ['fst-master', 'fst-chunkserver', 'fst-mount', 'fst-gateway', 'fstadmin'] as const;
export type UnitTool = (typeof UNIT_TOOLS)[number];

/** The directory whose package.json is FST's, above `from` (src/ or dist/ of this package). */
export function packageRoot(from: string = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'fst') return dir;
    if (dirname(dir) === dir) throw new Error(`no FST package.json above ${from}`);
  }
}

/** Where the shipped unit files and example configs are. */
export function shippedSystemdDir(root: string = packageRoot()): string {
  return join(root, 'systemd');
}

/**
 * The argv that runs `tool`: with `binPrefix`, `<binPrefix>/bin/<tool>` (the npm shims, which find
 * node through PATH; the script's shebang gives a daemon its node flags); otherwise this Node
 * executable, a daemon's node flags (DAEMON_NODE_FLAGS) and the package's bin/<tool>.js, which
 * works from a checkout and does not depend on PATH.
 */
export function toolCommand(tool: UnitTool, opts: { binPrefix?: string; root?: string; node?: string } = {}): string[] {
  if (opts.binPrefix !== undefined) return [join(opts.binPrefix, 'bin', tool)];
  const flags = DAEMON_BINS.includes(tool) ? DAEMON_NODE_FLAGS : [];
  return [opts.node ?? process.execPath, ...flags, join(opts.root ?? packageRoot(), 'bin', `${tool}.js`)];
}
