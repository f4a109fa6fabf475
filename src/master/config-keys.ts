/**
 * Every configuration key of fst-master: its flag (`--<name>`), config file key (`<name> = ...`) and
 * environment variable (`FST_<NAME>`). docs/CONFIG.md is generated from this table.
 */
import type { ConfigSchema } from '../common/config/config-schema.js';
import { LOG_LEVEL_KEY, METRICS_LISTEN_KEY } from '../common/config/common-keys.js';

/** Values of `sync` (how the metadata database commits). */
export const SYNC_MODES = ['normal', 'full'] as const;

export const MASTER_CONFIG_KEYS: ConfigSchema = [
  { name: 'data', type: 'path', required: true, placeholder: 'dir', description: 'directory for the metadata database (with --meta: for the cluster identity only)' },
  {
    name: 'meta', type: 'string', placeholder: 'url', defaultText: 'none (SQLite in data)',
    description: 'keep the namespace in this PostgreSQL database instead of SQLite in data (postgres://user@host:port/db: an existing database, empty at the first start, which makes the tables; several hosts, host1:port1,host2:port2, with ?target_session_attrs=read-write follow a failover)',
  },
  { name: 'listen', type: 'host-port', default: '127.0.0.1:9420', description: 'address to serve gRPC on' },
  {
    name: 'advertise', type: 'host-port', defaultText: 'the listen address',
    description: 'address other daemons reach this master at, as shown to them by fstadmin status and standby masters (several masters on PostgreSQL)',
  },
  {
    name: 'master-lease-ms', type: 'positive-int', default: 5000, placeholder: 'ms',
    description: 'with --meta (PostgreSQL): how long the active master holds its lease without renewing it (every fifth of it); a standby takes over once it has run out',
  },
  { name: 'replication', type: 'positive-int', default: 2, placeholder: 'n', description: 'default replication goal of new files' },
  { name: 'heartbeat-interval-ms', type: 'positive-int', default: 1000, placeholder: 'ms', description: 'how often chunkservers beat' },
  { name: 'dead-after-ms', type: 'positive-int', default: 10000, placeholder: 'ms', description: 'a chunkserver silent this long is dead' },
  { name: 'gc-interval-ms', type: 'positive-int', default: 5000, placeholder: 'ms', description: 'pause between chunk garbage collection passes' },
  { name: 'lease-ms', type: 'positive-int', default: 60000, placeholder: 'ms', description: "how long a chunk's primary holds its write lease (extended while writes go on)" },
  { name: 'replace-after-ms', type: 'positive-int', default: 600000, placeholder: 'ms', description: "copy a dead chunkserver's replicas elsewhere once it has been dead this long" },
  { name: 'replication-rate-mib', type: 'positive-int', default: 100, placeholder: 'n', description: 'most MiB per second that re-replication copies' },
  { name: 'replication-concurrency', type: 'positive-int', default: 2, placeholder: 'n', description: 're-replication copies running at once' },
  { name: 'replication-interval-ms', type: 'positive-int', default: 2000, placeholder: 'ms', description: 'pause between re-replication passes' },
  {
    name: 'inline-max', type: 'byte-size', default: 65536, placeholder: 'bytes',
    description: 'files up to this size keep their data in the metadata database instead of chunks (at most 64K; 0: never)',
  },
  {
    name: 'sync', type: 'choice', choices: SYNC_MODES, default: 'normal', placeholder: 'mode',
    description: "metadata durability (SQLite; PostgreSQL commits are durable): 'normal' survives master crashes, 'full' fsyncs every commit and survives power loss",
  },
  {
    name: 'insecure', type: 'bool', default: false,
    description: 'serve plaintext without credentials, to anyone who can reach the port: only for a closed test network (logs a warning at every start)',
  },
  {
    name: 'backup-dir', type: 'path', placeholder: 'dir', defaultText: '<data>/backups',
    description: 'where metadata backups go (put it on another disk or machine: a backup beside the database dies with it)',
  },
  {
    name: 'backup-interval', type: 'non-negative-number', default: 60, placeholder: 'minutes',
    description: 'minutes between automatic metadata backups (database snapshot and cluster identity); 0: none',
  },
  { name: 'backup-keep', type: 'positive-int', default: 24, placeholder: 'n', description: 'metadata backups kept in backup-dir (the oldest are removed)' },
  {
    name: 'load', type: 'path', placeholder: 'file', defaultText: 'none',
    description: 'start from this namespace dump (fstadmin metadata dump); data (or meta) must hold no namespace yet (copy tls/ beside it)',
  },
  {
    name: 'restore', type: 'path', placeholder: 'file', defaultText: 'none',
    description: 'start from this metadata backup (fstadmin metadata backup) of either engine; data must hold no database yet (with meta: that database no namespace)',
  },
  LOG_LEVEL_KEY,
  METRICS_LISTEN_KEY,
];
