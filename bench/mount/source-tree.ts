/**
 * The source tree the tree workloads (ls -lR, cp -r, tar xf, rm -rf) use: a few thousand real files
 * available offline on every machine that can run the benchmark, namely some of this checkout's
 * node_modules packages (pinned by package-lock.json). They are copied to a staging directory on
 * the same disk, and tarred there (uncompressed: untar then measures the filesystem, not gzip).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/helpers/daemon-process.js';
import { countTree, q, sh, type TreeCount } from './system.js';

/** About 3,500 files, 45 MiB: TypeScript's big compiler files beside many small modules. */
const PACKAGES = ['typescript', '@typescript-eslint', 'lodash', '@grpc', 'eslint'];

export interface SourceTree extends TreeCount {
  /** The staged copy (source of cp -r). */
  dir: string;
  /** tar of `dir`, entries under `tree/`. */
  tarball: string;
  describe: string;
}

export async function stageSourceTree(root: string): Promise<SourceTree> {
  const staging = join(root, 'staging');
  const dir = join(staging, 'tree');
  await mkdir(dir, { recursive: true });
  const present = PACKAGES.filter((p) => existsSync(join(REPO_ROOT, 'node_modules', p)));
  if (present.length === 0) throw new Error('no source tree: node_modules is missing (run npm ci)');
  await sh(`cp -r ${present.map((p) => q(join(REPO_ROOT, 'node_modules', p))).join(' ')} ${q(dir)}/`);
  const tarball = join(staging, 'tree.tar');
  await sh(`tar cf ${q(tarball)} -C ${q(staging)} tree`);
  const c = await countTree(dir);
  const describe = `node_modules/{${present.join(',')}} of this checkout: ${c.files} files, ${c.dirs} dirs, ${c.others} other entries, ${(c.bytes / 2 ** 20).toFixed(1)} MiB`;
  return { ...c, dir, tarball, describe };
}

/** Reads the staged tree and tarball so that the copy workloads start with a warm source. */
export async function warmSourceTree(t: SourceTree): Promise<void> {
  // Through a pipe: GNU tar skips reading file data when its archive is /dev/null itself.
  await sh(`tar cf - -C ${q(t.dir)} . | cat > /dev/null && cat ${q(t.tarball)} > /dev/null`);
}
