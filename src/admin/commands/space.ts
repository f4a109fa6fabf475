/** fstadmin space (being written). */
import type { Command } from 'commander';
import type { CliIo } from '../../cli/program.js';

export function registerSpace(_program: Command, _io: CliIo): void {}
