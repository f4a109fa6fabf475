#!/usr/bin/env node
// Rewrites the key tables of docs/CONFIG.md from the daemons' configuration schemas
// (src/*/config-keys.ts), leaving the prose around them alone. It runs the built code in dist/,
// so it builds first (`npm run build`); test/unit/config-doc.test.ts fails until this is run after
// a schema change.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docPath = join(root, 'docs', 'CONFIG.md');

// tsc emits even when other parts of the tree do not type-check; the doc only needs config-doc.js.
try {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
} catch {
  process.stderr.write('gen-config-doc: tsc reported errors; using what it emitted\n');
}
const { renderConfigDoc } = await import(join(root, 'dist', 'common', 'config', 'config-doc.js'));
const before = readFileSync(docPath, 'utf8');
const after = renderConfigDoc(before);
if (after === before) {
  process.stdout.write('docs/CONFIG.md is up to date\n');
} else {
  writeFileSync(docPath, after);
  process.stdout.write('docs/CONFIG.md: key tables rewritten\n');
}
