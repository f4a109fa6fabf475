#!/usr/bin/env node
// Fails when the relative imports under src/ form a cycle (type-only imports excluded: they vanish
// at run time). Uses the TypeScript scanner, so it needs no resolver plugin: './x.js' maps to x.ts.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'proto-gen') walk(p); }
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(p);
  }
})(root);

const graph = new Map();
for (const file of files) {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const deps = [];
  for (const st of sf.statements) {
    const isImport = ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly;
    const isExport = ts.isExportDeclaration(st) && !st.isTypeOnly && st.moduleSpecifier;
    if (!isImport && !isExport) continue;
    // import { type A, type B } from: type-only too.
    const named = isImport ? st.importClause?.namedBindings : undefined;
    if (isImport && named && ts.isNamedImports(named) && !st.importClause.name && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)) continue;
    const spec = st.moduleSpecifier.text;
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
    if (existsSync(target)) deps.push(target);
  }
  graph.set(file, deps);
}

const state = new Map();
const stack = [];
const cycles = [];
function visit(f) {
  state.set(f, 1);
  stack.push(f);
  for (const d of graph.get(f) ?? []) {
    if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map((p) => relative(root, p)).join(' -> '));
    else if (!state.has(d)) visit(d);
  }
  stack.pop();
  state.set(f, 2);
}
for (const f of files) if (!state.has(f)) visit(f);
if (cycles.length > 0) {
  console.error(`import cycles in src/:\n  ${cycles.join('\n  ')}`);
  process.exit(1);
}
console.log(`no import cycles among ${files.length} modules`);
