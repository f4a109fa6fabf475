/**
 * Tests that spawn bin/ daemons run dist/. `npm test` builds first; a test file run alone (npx
 * vitest run FILE) calls ensureBuilt in beforeAll, which rebuilds when a source is newer than
 * `marker`, the compiled file the test depends on.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './daemon-process.js';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** `marker`: a path under dist/; `sources`: directories under the repository it is built from. */
export async function ensureBuilt(marker: string, sources: string[]): Promise<void> {
  const built = join(REPO_ROOT, 'dist', marker);
  const newest = Math.max(...sources.map((d) => newestMtime(join(REPO_ROOT, d))));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  // Other parts of the tree may not type-check at this moment; tsc still emits, and the file's
  // existence is what matters here.
  await promisify(execFile)('npm', ['run', 'build'], { cwd: REPO_ROOT }).catch(() => undefined);
  if (!existsSync(built)) throw new Error(`npm run build did not produce dist/${marker}`);
}
