/**
 * The link to the master: RegisterChunkserver, then one bidirectional Heartbeat stream. The stream
 * opens with the full chunk report in pages of at most 10,000 chunks (full_report on every page,
 * report_done on the last; one empty page when there are no chunks); after that, every
 * heartbeat_interval_ms, a beat carries capacity, usage, load, the data RPCs' running totals
 * (io-totals.ts) and the chunks added, changed or removed since the previous beat, and those
 * quarantined as corrupt (also among the removed). The master's answers name chunks to delete.
 *
 * When the master is unreachable or the stream breaks, the link registers again with backoff (at
 * most ~2 s) forever, and reports everything again: deltas are only ever relative to a full report
 * on the same stream (a corrupt chunk found before it is simply absent from it). Chunk I/O never
 * waits for the master.
 */
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { rest } from '../common/lifecycle/rest.js';
import type { Logger } from '../common/log/logger.js';
import { RpcClient } from '../common/rpc/client.js';
import type { Credentials } from '../common/security/credentials-file.js';
import type { IoTotals } from './io-totals.js';
import type { TokenKeyHolder } from './rpc/chunk-access.js';
import { RegistryMethods } from '../common/rpc/services.js';
import type { fst } from '../proto-gen/fst.js';
import { waitDrain } from './rpc/stream-flow.js';
import { peerUint64, uint64 } from './rpc/validate.js';
import type { ChunkEntry } from './store/chunk-index.js';
import type { ChunkStore } from './store/chunk-store.js';

export const REPORT_PAGE = 10_000;
const DEFAULT_INTERVAL_MS = 1_000;
const MAX_BACKOFF_MS = 2_000;

export interface MasterLinkOptions {
  master: string;
  uuid: string;
  address: string;
  rack?: string;
  store: ChunkStore;
  /** Requests in flight. */
  load: () => number;
  /** Calls and bytes served since the process started: every beat carries them. */
  io: IoTotals;
  log: Logger;
  /** This chunkserver's credential (undefined: plaintext). */
  credentials?: Credentials;
  /** Receives the key of the master's chunk access tokens at each registration. */
  tokenKey?: TokenKeyHolder;
}

type LinkState = 'connecting' | 'connected' | 'disconnected';

export class MasterLink {
  private readonly client: RpcClient;
  private readonly ac = new AbortController();
  private readonly changed = new Map<number, ChunkEntry>();
  private readonly removed = new Set<number>();
  private readonly corrupt = new Set<number>();
  private state: LinkState = 'connecting';
  private running: Promise<void> | undefined;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly o: MasterLinkOptions) {
    this.client = new RpcClient(o.master, { timeoutMs: 5_000, retryForMs: 0, tls: o.credentials && { credentials: o.credentials, server: 'master' } });
  }

  /** Where the link stands: 'connected' once registered and beating. */
  get linkState(): LinkState {
    return this.state;
  }

  start(): void {
    this.unsubscribe.push(this.o.store.index.onChange((id, entry) => {
      if (entry) {
        // A chunk back before the beat (a fresh copy of a quarantined one) is neither removed nor
        // corrupt any more.
        this.changed.set(id, entry);
        this.removed.delete(id);
        this.corrupt.delete(id);
      } else {
        this.changed.delete(id);
        this.removed.add(id);
      }
    }));
    this.unsubscribe.push(this.o.store.index.onCorrupt((id) => this.corrupt.add(id)));
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.running;
    for (const fn of this.unsubscribe.splice(0)) fn();
    this.client.close();
  }

  private setState(to: LinkState, fields: Record<string, unknown> = {}): void {
    if (to === this.state) return;
    this.state = to;
    if (to === 'connected') this.o.log.info('registered with master', { master: this.o.master, ...fields });
    else this.o.log.warn('master unreachable; retrying', { master: this.o.master, ...fields });
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.ac.signal.aborted; attempt++) {
      // A signal per attempt: RpcClient leaves an 'abort' listener on the signal of every call,
      // and this loop may run forever while the master is away.
      const attemptAc = new AbortController();
      const onStop = (): void => attemptAc.abort();
      this.ac.signal.addEventListener('abort', onStop, { once: true });
      try {
        await this.session(attemptAc.signal, () => (attempt = 0));
      } catch (err) {
        if (this.ac.signal.aborted) break;
        this.setState('disconnected', { error: err instanceof Error ? err.message : String(err) });
      } finally {
        this.ac.signal.removeEventListener('abort', onStop);
        attemptAc.abort();
      }
      const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(attempt, 5));
      await rest(backoff * (0.5 + Math.random() / 2), this.ac.signal);
    }
  }

  private stats(serverId: number, registration: Uint8Array): fst.IHeartbeatRequest {
    const { store, io } = this.o;
    const { capacityBytes, freeBytes } = store.disks.totals();
    return {
      serverId, registration, capacityBytes, freeBytes, usedBytes: store.index.usedBytes, load: this.o.load(), chunkCount: store.index.count,
      reads: io.reads, writes: io.writes, bytesRead: io.bytesRead, bytesWritten: io.bytesWritten,
    };
  }

  /** One registration and heartbeat stream; returns or throws when the stream ends. */
  private async session(signal: AbortSignal, registered: () => void): Promise<void> {
    const { store, log } = this.o;
    await store.disks.refresh();
    const { capacityBytes, freeBytes } = store.disks.totals();
    const reg = await this.client.unary(RegistryMethods.RegisterChunkserver,
      { uuid: this.o.uuid, address: this.o.address, capacityBytes, freeBytes, rack: this.o.rack ?? '' }, { signal });
    const serverId = peerUint64(reg.serverId, 'server_id');
    if (reg.tokenKey.length > 0) this.o.tokenKey?.set(Buffer.from(reg.tokenKey));
    registered();
    this.setState('connected', { serverId });
    const interval = reg.heartbeatIntervalMs || DEFAULT_INTERVAL_MS;
    const call = this.client.bidi(RegistryMethods.Heartbeat, { signal });
    const ended = new Promise<never>((_, reject) => {
      call.on('error', (e: unknown) => reject(this.client.streamError(e, RegistryMethods.Heartbeat, call)));
      call.on('end', () => reject(new Error('master closed the heartbeat stream')));
    });
    ended.catch(() => undefined);
    call.on('data', (res: fst.HeartbeatResponse) => this.deleteChunks(res.deleteChunks));
    try {
      // The full report supersedes every delta collected so far.
      this.changed.clear();
      this.removed.clear();
      this.corrupt.clear();
      const all = [...store.index.entries()];
      for (let i = 0; i === 0 || i < all.length; i += REPORT_PAGE) {
        const page = all.slice(i, i + REPORT_PAGE).map(([chunkId, e]) => ({ chunkId, version: e.version, length: e.length }));
        await this.send(call, { ...this.stats(serverId, reg.registration), fullReport: true, reportDone: i + REPORT_PAGE >= all.length, chunks: page }, ended, signal);
      }
      for (;;) {
        await Promise.race([rest(interval, signal), ended]);
        if (signal.aborted) return;
        await store.disks.refresh().catch((err: unknown) => log.warn('statfs failed', { err }));
        const chunks = [...this.changed].map(([chunkId, e]) => ({ chunkId, version: e.version, length: e.length }));
        const removed = [...this.removed];
        const corrupt = [...this.corrupt];
        this.changed.clear();
        this.removed.clear();
        this.corrupt.clear();
        await this.send(call, { ...this.stats(serverId, reg.registration), chunks, removed, corrupt }, ended, signal);
      }
    } finally {
      call.cancel();
    }
  }

  private async send(
    call: ClientDuplexStream<fst.IHeartbeatRequest, fst.HeartbeatResponse>,
    msg: fst.IHeartbeatRequest,
    ended: Promise<never>,
    signal: AbortSignal,
  ): Promise<void> {
    if (!call.write(msg)) await waitDrain(call, signal, ended);
  }

  private deleteChunks(raw: unknown[]): void {
    for (const id of raw.map(uint64)) {
      if (!(id > 0)) continue;
      this.o.store.delete(id).then(
        (existed) => existed && this.o.log.info('chunk deleted on master request', { chunkId: id }),
        (err: unknown) => this.o.log.warn('deleting chunk failed', { chunkId: id, err }),
      );
    }
  }
}
