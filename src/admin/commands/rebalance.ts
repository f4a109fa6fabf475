/** fstadmin rebalance (being written). */
import type { Command } from 'commander';
import type { CliIo } from '../../cli/program.js';

export function registerRebalance(_program: Command, _io: CliIo): void {}
