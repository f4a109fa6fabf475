/**
 * One AdminService call from fstadmin: the master address from --master/FST_MASTER, a deadline,
 * and failures as CliError (an unreachable master says so; a refused request keeps the master's
 * errno and message, e.g. "no chunkserver '10.0.0.9:9422'").
 */
import type { Command } from 'commander';
import { RpcClient } from '../common/rpc/client.js';
import type { MethodDescriptor } from '../common/rpc/service-def.js';
import { MASTER_TIMEOUT_MS, cliCredentials, masterAddress, masterFailure, type CliIo } from '../cli/program.js';

/** Calls `m`; `timeoutMs` for calls that take long on big clusters (fsck, gc, du). */
export async function adminCall<ReqI, Req extends ReqI, ResI, Res extends ResI>(
  program: Command, io: CliIo, m: MethodDescriptor<ReqI, Req, ResI, Res, 'unary'>, req: ReqI, timeoutMs = MASTER_TIMEOUT_MS,
): Promise<Res> {
  const master = masterAddress(program, io);
  const credentials = await cliCredentials(program, io);
  const rpc = new RpcClient(master, { timeoutMs, retryForMs: MASTER_TIMEOUT_MS, tls: credentials && { credentials, server: 'master' } });
  try {
    return await rpc.unary(m, req);
  } catch (e) {
    // No answer from the master itself (unreachable after the retries, or the deadline passed)
    // says so; an errno the master answered with, EIO included, keeps the master's message.
    throw masterFailure(master, e);
  } finally {
    rpc.close();
  }
}

/** Prints `obj` as indented JSON. */
export function printJson(io: CliIo, obj: unknown): void {
  io.stdout.write(JSON.stringify(obj, null, 2) + '\n');
}
