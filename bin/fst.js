#!/usr/bin/env node
// fst: the FST file client (src/cli/main.ts). main() resolves with the exit status; the process
// exits by itself once its output is written, and a stray handle cannot keep it alive past 2 s.
import { main } from '../dist/cli/main.js';

const code = await main(process.argv);
process.exitCode = code;
setTimeout(() => process.exit(code), 2000).unref();
