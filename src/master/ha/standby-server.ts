/**
 * What a standby master serves while another holds the lease: the master's port, with every call
 * of every service answered UNAVAILABLE (errno EAGAIN) and a message naming the active master when
 * known. Clients given a list of masters (common/rpc/client.ts) take UNAVAILABLE as "try the next
 * address", so they find the active one; a client given only this address keeps retrying within its
 * window, as it does while a master restarts.
 */
import { FsError } from '../../common/errors/errno.js';
import type { Logger } from '../../common/log/logger.js';
import type { Credentials } from '../../common/security/credentials-file.js';
import { addService, createRpcServer, type RpcServer, type ServiceHandlers } from '../../common/rpc/server.js';
import type { AnyMethod } from '../../common/rpc/service-def.js';
import { AdminMethods, MasterMethods, RegistryMethods } from '../../common/rpc/services.js';

/** A call to a master that does not hold the lease: UNAVAILABLE on the wire (EAGAIN), retried elsewhere. */
export class MasterNotActiveError extends FsError {
  constructor(message: string) {
    super('EAGAIN', message);
  }
}

/** Every method of `methods` answering `refuse()`. */
function refusing<T extends Record<string, AnyMethod>>(methods: T, refuse: () => Error): ServiceHandlers<T> {
  const handlers: Record<string, () => Promise<never>> = {};
  for (const key of Object.keys(methods)) handlers[key] = () => Promise.reject(refuse());
  return handlers as unknown as ServiceHandlers<T>;
}

/**
 * Binds `listen` and refuses every call; `active()` says where the active master is (undefined:
 * none known). Resolves with the server and the port bound.
 */
export async function serveStandby(listen: string, tls: Credentials | undefined, active: () => string | undefined, log: Logger): Promise<{ server: RpcServer; port: number }> {
  const server = createRpcServer(log, tls);
  const refuse = (): Error => {
    const at = active();
    return new MasterNotActiveError(at === undefined
      ? 'this master is a standby and no master is active now (a takeover is under way): try again'
      : `this master is a standby: the active master is at ${at}`);
  };
  addService(server, MasterMethods, refusing(MasterMethods, refuse), log);
  addService(server, RegistryMethods, refusing(RegistryMethods, refuse), log);
  addService(server, AdminMethods, refusing(AdminMethods, refuse), log);
  const port = await server.bind(listen);
  return { server, port };
}
