/** fstadmin wait-ready (placeholder until it lands). */
import type { Command } from 'commander';
import type { CliIo } from '../../cli/program.js';

export function registerWaitReady(_program: Command, _io: CliIo): void {}
