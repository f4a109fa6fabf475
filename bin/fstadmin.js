#!/usr/bin/env node
// fstadmin: FST cluster administration (src/admin/main.ts). main() resolves with the exit status;
// the process exits by itself once its output is written, and a stray handle cannot keep it alive.
import { main } from '../dist/admin/main.js';

const code = await main(process.argv);
process.exitCode = code;
setTimeout(() => process.exit(code), 2000).unref();
