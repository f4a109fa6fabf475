/**
 * The master's SQLite schema. Every lookup path has an index (primary keys on (parent, name),
 * (ino, idx), (chunk_id, server_id)) so that no hot-path query scans a table, and nothing about
 * files is kept in memory: 10 million files cost disk, not RAM.
 *
 * Times are stored as seconds + nanoseconds in two columns: a nanosecond count since the epoch
 * does not fit the 53-bit integers that the sqlite3 driver hands to JavaScript.
 */
export const SCHEMA_VERSION = 9;

/** The credentials the cluster's CA issued (V8), in new databases and migrated ones alike. */
const CREDENTIALS_TABLE = `
CREATE TABLE credentials (
  serial TEXT PRIMARY KEY,          -- the certificate's serial number (hex, upper case)
  name TEXT NOT NULL,               -- the certificate's CN
  role TEXT NOT NULL,               -- admin | chunkserver | client
  path TEXT NOT NULL DEFAULT '/',   -- the subtree it is confined to
  read_only INTEGER NOT NULL DEFAULT 0,
  map_root TEXT,                    -- 'uid:gid' its root callers become; NULL: nobody (admin: root stays root)
  map_all TEXT,                     -- 'uid:gid' every caller becomes; NULL: callers keep their ids
  created_ms INTEGER NOT NULL,
  revoked_ms INTEGER                -- set by revoke; the row stays, so the certificate stays refused
) WITHOUT ROWID;
CREATE INDEX credentials_by_name ON credentials (name);
`;

/** The current schema, as a new database gets it (the name is historical). */
export const SCHEMA_V1 = `
CREATE TABLE inodes (
  ino INTEGER PRIMARY KEY,          -- inode number; 1 is the root directory
  type INTEGER NOT NULL,            -- fst.FileType
  mode INTEGER NOT NULL,            -- permission bits (07777)
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  nlink INTEGER NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,
  mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
  rdev INTEGER NOT NULL DEFAULT 0,
  replication INTEGER NOT NULL,     -- goal for this file's chunks; directories pass it on
  parent INTEGER,                   -- directories only: their one parent (rename cycle checks)
  target TEXT,                      -- symlinks only
  has_xattrs INTEGER NOT NULL DEFAULT 0, -- 1 while the inode has extended attributes (see V2)
  change_seq INTEGER NOT NULL DEFAULT 0 -- directories: +1 at every change of their entries (see V6)
);
CREATE TABLE dentries (
  parent INTEGER NOT NULL,
  name TEXT NOT NULL,
  ino INTEGER NOT NULL,
  type INTEGER NOT NULL,
  PRIMARY KEY (parent, name)
) WITHOUT ROWID;
CREATE INDEX dentries_by_ino ON dentries (ino); -- the names of an inode (see V7)
CREATE TABLE chunks (
  ino INTEGER NOT NULL,
  idx INTEGER NOT NULL,             -- chunk index in the file
  chunk_id INTEGER NOT NULL UNIQUE,
  version INTEGER NOT NULL,
  version_ceiling INTEGER NOT NULL DEFAULT 0, -- highest version ever sent to a replica (see V9)
  PRIMARY KEY (ino, idx)
) WITHOUT ROWID;
CREATE TABLE replicas (
  chunk_id INTEGER NOT NULL,
  server_id INTEGER NOT NULL,
  version INTEGER NOT NULL,         -- version last known on that server; < chunks.version = stale
  seen_gen INTEGER NOT NULL DEFAULT 0, -- full-report generation that last saw it (mark and sweep)
  PRIMARY KEY (chunk_id, server_id)
) WITHOUT ROWID;
CREATE INDEX replicas_by_server ON replicas (server_id);
CREATE TABLE chunkservers (
  id INTEGER PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  address TEXT NOT NULL,
  rack TEXT NOT NULL DEFAULT '',
  capacity INTEGER NOT NULL DEFAULT 0,
  used INTEGER NOT NULL DEFAULT 0,
  free INTEGER NOT NULL DEFAULT 0,
  last_heartbeat_ms INTEGER NOT NULL DEFAULT 0,
  decommission INTEGER NOT NULL DEFAULT 0 -- 1 while draining (see V4)
);
CREATE TABLE xattrs (
  ino INTEGER NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (ino, name)
) WITHOUT ROWID;
CREATE TABLE deleted_chunks (
  chunk_id INTEGER PRIMARY KEY,     -- chunk whose file is gone; its replicas are deleted lazily
  deleted_ms INTEGER NOT NULL
);
CREATE TABLE leases (
  chunk_id INTEGER PRIMARY KEY,     -- chunk under mutation
  server_id INTEGER NOT NULL,       -- its primary
  version INTEGER NOT NULL,         -- the version the lease was granted at
  expires_ms INTEGER NOT NULL       -- Unix ms after which the primary no longer holds it (see V3)
);
CREATE TABLE settings (
  name TEXT PRIMARY KEY,            -- operator's choices that outlive a restart (rebalance job: see V4)
  value TEXT NOT NULL               -- JSON
) WITHOUT ROWID;
CREATE TABLE foreign_chunks (
  chunk_id INTEGER PRIMARY KEY,     -- reported by a chunkserver, never issued by this metadata (see V4)
  first_seen_ms INTEGER NOT NULL
);
CREATE TABLE counters (
  name TEXT PRIMARY KEY,            -- next_chunk_id, files, directories, chunks
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE orphans (
  ino INTEGER PRIMARY KEY,          -- an inode with no name left that a client still has open (see V5)
  expires_ms INTEGER NOT NULL       -- Unix ms after which it is freed unless its client renews it
);
CREATE INDEX orphans_by_expiry ON orphans (expires_ms);
CREATE TABLE inline_data (
  ino INTEGER PRIMARY KEY,          -- a small regular file whose bytes live here, not in chunks (see V6)
  data BLOB NOT NULL
);
${CREDENTIALS_TABLE}`;

/**
 * Version 2: inodes say whether they have extended attributes, so that every answer carrying
 * attributes lets clients answer "no such attribute" themselves (`ls -l` asks two per file).
 */
export const SCHEMA_V2_FROM_V1 = `
ALTER TABLE inodes ADD COLUMN has_xattrs INTEGER NOT NULL DEFAULT 0;
UPDATE inodes SET has_xattrs = 1 WHERE ino IN (SELECT ino FROM xattrs);
`;

/**
 * Version 3: chunk leases. A restarted master reads them back and never grants a second primary
 * for a chunk while a lease it granted before may still be held.
 */
export const SCHEMA_V3_FROM_V2 = `
CREATE TABLE leases (
  chunk_id INTEGER PRIMARY KEY,
  server_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
);
`;

/**
 * Version 4: operations. A chunkserver being decommissioned stays so across restarts; the
 * rebalance job (its threshold, rate and state) is resumed by a restarted master; chunks that
 * servers hold but this metadata never issued (restored from an older backup?) are remembered, so
 * that their ids are never issued (a new chunk must not meet old bytes) and reports keep them for
 * `fstadmin fsck`.
 */
export const SCHEMA_V4_FROM_V3 = `
ALTER TABLE chunkservers ADD COLUMN decommission INTEGER NOT NULL DEFAULT 0;
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE foreign_chunks (
  chunk_id INTEGER PRIMARY KEY,
  first_seen_ms INTEGER NOT NULL
);
`;

/**
 * Version 5: orphans. A file removed (its last name unlinked or renamed over) while a client has
 * it open is kept, nameless, until that client closes it or stops renewing it, as a local
 * filesystem keeps an unlinked open file.
 */
export const SCHEMA_V5_FROM_V4 = `
CREATE TABLE orphans (
  ino INTEGER PRIMARY KEY,
  expires_ms INTEGER NOT NULL
);
CREATE INDEX orphans_by_expiry ON orphans (expires_ms);
`;

/**
 * Version 6: small files inline. A regular file of at most `--inline-max` bytes keeps its data in
 * the metadata (tree/inline-data.ts) instead of chunks on chunkservers. Directories count the
 * changes of their entries (change_seq), so that a client can tell whether anyone else changed a
 * directory it keeps a listing of.
 */
export const SCHEMA_V6_FROM_V5 = `
CREATE TABLE inline_data (
  ino INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
ALTER TABLE inodes ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
`;

/**
 * Version 7: the names of an inode by its number. A call about an inode (stat, chmod, a write's
 * commit) from one mount finds the directories that name it, so that a directory another mount
 * holds (sessions/delegations.ts), which may answer attribute changes of its files itself, is
 * recalled first.
 */
export const SCHEMA_V7_FROM_V6 = `
CREATE INDEX dentries_by_ino ON dentries (ino);
`;

/**
 * Version 8: credentials. Every certificate the cluster CA issued to a client, chunkserver or
 * operator, with what it may do (master/security/credential-registry.ts); a revoked one is kept so
 * that its certificate, still validly signed, is refused.
 */
export const SCHEMA_V8_FROM_V7 = `
${CREDENTIALS_TABLE}`;

/**
 * Version 9: each chunk's version ceiling, the highest version the master ever asked a replica to
 * take, recorded before it asks. A chunk report beyond the recorded version is adopted only up to
 * it (the master died between a move and its record); anything higher was never issued and is
 * set aside, so a report cannot make the real replicas stale.
 */
export const SCHEMA_V9_FROM_V8 = `
ALTER TABLE chunks ADD COLUMN version_ceiling INTEGER NOT NULL DEFAULT 0;
`;
