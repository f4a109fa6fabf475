/**
 * fstadmin: FST cluster administration. Each subcommand lives in commands/<name>.ts and registers
 * itself here.
 *
 *   fstadmin [--master HOST:PORT] status|df|du|goal|rebalance|decommission|forget|fsck|gc [--json]
 *   fstadmin metadata rebuild                 (files back from the chunkservers after a metadata loss)
 *   fstadmin install-units | wait-ready      (on the servers themselves)
 *
 * Same conventions as fst (src/cli/main.ts): master from --master or FST_MASTER, one-line errors,
 * exit 1 for operational errors and 2 for usage errors; `main` resolves with the exit status.
 */
import { createProgram, processIo, runProgram, type CliIo } from '../cli/program.js';
import { registerCredentials } from './commands/credentials.js';
import { registerDecommission } from './commands/decommission.js';
import { registerFsck } from './commands/fsck.js';
import { registerGc } from './commands/gc.js';
import { registerGoal } from './commands/goal.js';
import { registerInstallUnits } from './commands/install-units.js';
import { registerMetadata } from './commands/metadata.js';
import { registerMetadataRebuild } from './commands/metadata-rebuild.js';
import { registerRebalance } from './commands/rebalance.js';
import { registerSpace } from './commands/space.js';
import { registerStatus } from './commands/status.js';
import { registerWaitReady } from './commands/wait-ready.js';

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = createProgram('fstadmin', 'FST cluster administration', io);
  for (const register of [registerStatus, registerSpace, registerGoal, registerRebalance, registerDecommission, registerFsck, registerGc, registerInstallUnits, registerWaitReady, registerCredentials, registerMetadata, registerMetadataRebuild]) {
    register(program, io);
  }
  return runProgram(program, argv, io);
}
