/**
 * What an active master on PostgreSQL does beyond a single master: its metadata transactions check
 * its lease (a stale master's are refused, answered UNAVAILABLE so that clients go elsewhere), and
 * its RPC server binds the port its standby server just gave up.
 */
import type { MasterDb } from '../db/database.js';
import { bindRpcServer, type RpcServer } from '../../common/rpc/server.js';
import type { MasterLease } from './master-lease.js';
import { MasterNotActiveError } from './standby-server.js';

/** Every metadata transaction runs only while the lease row names this master (lease-table.ts). */
export function guardWrites(db: MasterDb, lease: MasterLease): void {
  if (!db.engine.guardWrites) throw new Error(`the ${db.engine.kind} engine cannot check a master lease: several masters need PostgreSQL`);
  db.engine.guardWrites({
    sql: () => lease.holderRequired(),
    refused: () => {
      lease.lose('a metadata transaction found the lease held by another master');
      return new MasterNotActiveError('this master lost its lease: another master is active');
    },
  });
}

/** How long the standby server's port may take to be free again after it closed. */
const REBIND_MS = 5_000;

/** Binds `listen`, retrying while the standby server's listener is still closing. */
export async function bindAfterStandby(server: RpcServer, listen: string): Promise<number> {
  const until = performance.now() + REBIND_MS;
  for (;;) {
    try {
      return await bindRpcServer(server, listen);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || performance.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
