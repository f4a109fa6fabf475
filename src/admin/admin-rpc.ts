/**
 * One AdminService call from fstadmin: the master address from --master/FST_MASTER, a deadline,
 * and failures as CliError (an unreachable master says so; a refused request keeps the master's
 * errno and message, e.g. "no chunkserver '10.0.0.9:9422'").
 */
import type { Command } from 'commander';
import { FsError } from '../common/errors/errno.js';
import { answeredErrno, isServiceError } from '../common/errors/rpc-status.js';
import { toErrno, toFsError } from '../common/errors/to-errno.js';
import { RpcClient } from '../common/rpc/client.js';
import type { MethodDescriptor } from '../common/rpc/service-def.js';
import { CliError } from '../cli/errors.js';
import { MASTER_TIMEOUT_MS, masterAddress, type CliIo } from '../cli/program.js';

/** Calls `m`; `timeoutMs` for calls that take long on big clusters (fsck, gc, du). */
export async function adminCall<ReqI, Req extends ReqI, ResI, Res extends ResI>(
  program: Command, io: CliIo, m: MethodDescriptor<ReqI, Req, ResI, Res, 'unary'>, req: ReqI, timeoutMs = MASTER_TIMEOUT_MS,
): Promise<Res> {
  const master = masterAddress(program, io);
  const rpc = new RpcClient(master, { timeoutMs, retryForMs: MASTER_TIMEOUT_MS });
  try {
    return await rpc.unary(m, req);
  } catch (e) {
    const code = toErrno(e);
    // No answer from the master itself (unreachable after the retries, or the deadline passed):
    // say so. An errno the master answered with, EIO included, keeps its message below.
    if (answeredErrno(e) === undefined) throw new CliError(`master ${master}`, code === 'EIO' ? 'ETIMEDOUT' : code, 1, { cause: e });
    // The master's own refusal: its message, without the call's path and address.
    const cause = (e as { cause?: unknown }).cause;
    const details = isServiceError(cause) ? cause.details : toFsError(e).message;
    throw new FsError(code, details, { cause: e });
  } finally {
    rpc.close();
  }
}

/** Prints `obj` as indented JSON. */
export function printJson(io: CliIo, obj: unknown): void {
  io.stdout.write(JSON.stringify(obj, null, 2) + '\n');
}
