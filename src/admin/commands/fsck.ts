/** fstadmin fsck (placeholder until the checker lands). */
import type { Command } from 'commander';
import type { CliIo } from '../../cli/program.js';

export function registerFsck(_program: Command, _io: CliIo): void {}
