/** fstadmin gc (being written). */
import type { Command } from 'commander';
import type { CliIo } from '../../cli/program.js';

export function registerGc(_program: Command, _io: CliIo): void {}
