/**
 * What the master asks of chunkservers (SetChunkVersion, CopyChunk, DeleteChunk, ListChunks), over
 * one pooled client per server. Calls are never retried here: the caller decides what a failure
 * means.
 */
import { RpcClientPool } from '../../common/rpc/client.js';
import type { Credentials } from '../../common/security/credentials-file.js';
import { ChunkserverMethods } from '../../common/rpc/services.js';

/** A whole chunk may cross a slow link. */
const COPY_TIMEOUT_MS = 10 * 60_000;
/** A server with millions of chunks, each looked at on disk, lists them in minutes. */
const LIST_TIMEOUT_MS = 10 * 60_000;

/** The file a chunk belongs to, as its meta file records it (proto ChunkOwner). */
export interface ChunkOwner {
  ino: number;
  index: number;
  /** The file's path when the chunk was created ("" when none). */
  path: string;
}

/** One chunk as a server holds it (ListChunks). */
export interface HeldChunk {
  chunkId: number;
  version: number;
  length: number;
  /** The server found its data or meta file gone: the copy cannot be served. */
  filesMissing: boolean;
  /** With withOwners: its owner record, undefined when it has none. */
  owner?: ChunkOwner;
}

export interface ListChunksCommand {
  /** Look at each chunk's files on disk first. */
  verifyFiles?: boolean;
  /** With verifyFiles: drop a copy whose files are gone, like a corrupt one. */
  quarantineMissing?: boolean;
  /** Only these chunks (absent: every chunk held). */
  chunkIds?: number[];
  /** Also each chunk's owner record (metadata rebuild). */
  withOwners?: boolean;
}

export interface SetVersionCommand {
  chunkId: number;
  /** Version it must have now (0 with create). */
  version: number;
  newVersion: number;
  create?: boolean;
  truncateLength?: number;
  /** Make this server the primary at newVersion for this long (0 or absent: no lease). */
  leaseMs?: number;
  /** With create: the file the chunk belongs to, recorded in its meta file. */
  owner?: ChunkOwner;
}

export class ChunkserverCommands {
  private readonly pool: RpcClientPool;

  /** @param timeoutMs deadline of every call but CopyChunk (leases count on it: see leases.ts) */
  /** `tls`: the master's credential (undefined: plaintext, `--insecure`). */
  constructor(readonly timeoutMs = 10_000, tls?: Credentials) {
    this.pool = new RpcClientPool({ timeoutMs, retryForMs: 0, tls: tls && { credentials: tls, server: 'chunkserver' } });
  }

  setVersion(address: string, req: SetVersionCommand): Promise<{ length: number }> {
    return this.pool.get(address).unary(ChunkserverMethods.SetChunkVersion, {
      chunkId: req.chunkId,
      version: req.version,
      newVersion: req.newVersion,
      create: req.create ?? false,
      truncate: req.truncateLength !== undefined,
      truncateLength: req.truncateLength ?? 0,
      leaseMs: req.leaseMs ?? 0,
      owner: req.owner,
    });
  }

  /** Has `target` pull the chunk at `version` from `source`; resolves with the bytes copied. */
  async copyChunk(target: string, req: { chunkId: number; version: number; source: string }, signal?: AbortSignal): Promise<number> {
    const res = await this.pool.get(target).unary(ChunkserverMethods.CopyChunk, req, { timeoutMs: COPY_TIMEOUT_MS, signal });
    return Number(res.length);
  }

  /** Deletes the chunk on `address`; with `version`, only a copy at that version (else ESTALE). */
  async deleteChunk(address: string, chunkId: number, version = 0): Promise<void> {
    await this.pool.get(address).unary(ChunkserverMethods.DeleteChunk, { chunkId, version });
  }

  /** What `address` holds now (fsck); resolves once the server has listed everything. */
  async listChunks(address: string, req: ListChunksCommand = {}, signal?: AbortSignal): Promise<HeldChunk[]> {
    const held: HeldChunk[] = [];
    const pages = this.pool.get(address).serverStream(ChunkserverMethods.ListChunks, {
      verifyFiles: req.verifyFiles ?? false,
      quarantineMissing: req.quarantineMissing ?? false,
      chunkIds: req.chunkIds ?? [],
      withOwners: req.withOwners ?? false,
    }, { timeoutMs: LIST_TIMEOUT_MS, signal });
    for await (const page of pages) {
      for (const c of page.chunks) {
        const o = c.owner;
        held.push({
          chunkId: Number(c.chunkId), version: Number(c.version), length: Number(c.length), filesMissing: c.filesMissing === true,
          owner: o && Number(o.ino) > 0 ? { ino: Number(o.ino), index: Number(o.index ?? 0), path: o.path ?? '' } : undefined,
        });
      }
    }
    return held;
  }

  close(): void {
    this.pool.close();
  }
}
