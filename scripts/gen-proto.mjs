#!/usr/bin/env node
// Generates src/proto-gen/fst.js (+ fst.d.ts) from proto/*.proto with pbjs/pbts, and copies the
// JS into dist/proto-gen so that the compiled daemons find it. Skips the work when the output is
// newer than every .proto file (the mtime check), so `npm test` stays fast.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'proto');
const outDir = join(root, 'src', 'proto-gen');
const distDir = join(root, 'dist', 'proto-gen');
const outJs = join(outDir, 'fst.js');
const outDts = join(outDir, 'fst.d.ts');
const protos = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).map((f) => join(protoDir, f));

const newestInput = Math.max(...protos.map((p) => statSync(p).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
const upToDate = [outJs, outDts, join(distDir, 'fst.js')].every((f) => existsSync(f) && statSync(f).mtimeMs >= newestInput);
if (!upToDate) {
  const require = createRequire(import.meta.url);
  const cliDir = dirname(require.resolve('protobufjs-cli/package.json'));
  mkdirSync(outDir, { recursive: true });
  mkdirSync(distDir, { recursive: true });
  execFileSync(process.execPath, [join(cliDir, 'bin', 'pbjs'), '-t', 'static-module', '-w', 'es6',
    '--force-number', '--no-verify', '--no-delimited', '--no-beautify', '-p', protoDir, '-o', outJs, ...protos], { stdio: 'inherit' });
  // protobufjs is CommonJS without an exports map: ESM must name the file and take the default export.
  const js = readFileSync(outJs, 'utf8').replace(
    /import \* as \$protobuf from "protobufjs\/minimal";/,
    // 64-bit fields decode as JS numbers, not Long objects: FST's ids, sizes and versions stay
    // below 2^53 (the types already say `number`, --force-number only changes the typings).
    'import $protobuf from "protobufjs/minimal.js";\n$protobuf.util.Long = undefined;\n$protobuf.configure();',
  );
  writeFileSync(outJs, js);
  execFileSync(process.execPath, [join(cliDir, 'bin', 'pbts'), '--no-comments', '-o', outDts, outJs], { stdio: 'inherit' });
  writeFileSync(join(distDir, 'fst.js'), js);
}
