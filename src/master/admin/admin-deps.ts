/** What the master's administration operations (AdminService) work with. */
import type { fst } from '../../proto-gen/fst.js';
import type { Logger } from '../../common/log/logger.js';
import type { ChunkManager } from '../chunks/chunk-manager.js';
import type { MetadataBackups } from '../backup/metadata-backups.js';
import type { RestoreState } from '../backup/restore-state.js';
import type { MasterDb } from '../db/database.js';
import type { CredentialRegistry } from '../security/credential-registry.js';
import type { ServerRegistry } from '../servers/registry.js';

export interface AdminDeps {
  db: MasterDb;
  registry: ServerRegistry;
  chunks: ChunkManager;
  /** The master's --replication: the root's goal on first start. */
  defaultReplication: number;
  log: Logger;
  /** The cluster's credentials; undefined on a master run `--insecure`. */
  credentials: CredentialRegistry | undefined;
  /** RPCs the master has answered since it started (its RpcServer's count). */
  callsAnswered: () => number;
  /** The metadata backups (master/backup/metadata-backups.ts). */
  backups: MetadataBackups;
  /** Whether the metadata was restored and not yet reconciled (master/backup/restore-state.ts). */
  restore: RestoreState;
  /** The masters sharing the metadata (several on PostgreSQL: master/ha/); undefined: this one alone. */
  masters?: () => Promise<fst.IMasterStatus[]>;
  /** This master's address (the one row of `masters` on SQLite). */
  address?: () => string;
}
