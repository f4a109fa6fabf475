/**
 * The chunkservers the master knows: persisted identity (uuid -> id, address) in SQLite, live state
 * (capacity, load, data RPC totals, last heartbeat) in memory. A server is alive while its
 * heartbeat stream is open and it beat within `deadAfterMs`; anything else is dead, and its
 * replicas are not handed out.
 */
import type { MasterDb } from '../db/database.js';
import type { Logger } from '../../common/log/logger.js';

/**
 * A chunkserver's data RPCs since its process started, as its last heartbeat said: running totals
 * kept by the server itself (they start again at 0 when it restarts), 0 before a first beat.
 */
export interface ServerIo {
  /** ReadChunk streams and ReadRange calls served. */
  readonly reads: number;
  /** WriteChunk streams and WriteRange calls served, client and forwarded. */
  readonly writes: number;
  /** Chunk data bytes sent by those reads. */
  readonly bytesRead: number;
  /** Chunk data bytes written by those writes. */
  readonly bytesWritten: number;
}

const NO_IO: ServerIo = Object.freeze({ reads: 0, writes: 0, bytesRead: 0, bytesWritten: 0 });

export interface ServerInfo {
  id: number;
  uuid: string;
  address: string;
  rack: string;
  capacity: number;
  used: number;
  free: number;
  load: number;
  chunkCount: number;
  io: ServerIo;
  lastHeartbeatMs: number;
  /** The heartbeat stream is open (a closed stream means a stopped or crashed server). */
  connected: boolean;
  /** Being decommissioned: takes no new replica, and its replicas do not count towards goals. */
  draining: boolean;
}

export class ServerRegistry {
  private readonly servers = new Map<number, ServerInfo>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: MasterDb,
    private readonly deadAfterMs: number,
    private readonly log: Logger,
  ) {}

  /** Loads known servers (all dead until they beat) and starts the liveness check. */
  async load(): Promise<void> {
    const rows = await this.db.reader.all<{ id: number; uuid: string; address: string; rack: string; capacity: number; used: number; free: number; last_heartbeat_ms: number; decommission: number }>(
      'SELECT id, uuid, address, rack, capacity, used, free, last_heartbeat_ms, decommission FROM chunkservers',
    );
    for (const r of rows) {
      this.servers.set(r.id, { id: r.id, uuid: r.uuid, address: r.address, rack: r.rack, capacity: r.capacity, used: r.used, free: r.free, load: 0, chunkCount: 0, io: NO_IO, lastHeartbeatMs: r.last_heartbeat_ms, connected: false, draining: r.decommission === 1 });
    }
    this.timer = setInterval(() => this.logDeaths(), Math.max(250, Math.min(this.deadAfterMs / 2, 5_000)));
    this.timer.unref();
  }

  private readonly reportedDead = new Set<number>();
  private logDeaths(): void {
    for (const s of this.servers.values()) {
      const alive = this.isAlive(s.id);
      if (!alive && !this.reportedDead.has(s.id) && s.lastHeartbeatMs > 0) {
        this.reportedDead.add(s.id);
        this.log.warn('chunkserver dead', { serverId: s.id, address: s.address });
        this.transitioned();
      } else if (alive) this.reportedDead.delete(s.id);
    }
  }

  private readonly listeners: (() => void)[] = [];

  /** Calls `fn` whenever a server registers, connects, disconnects or is found dead. */
  onTransition(fn: () => void): void {
    this.listeners.push(fn);
  }

  private transitioned(): void {
    for (const fn of this.listeners) fn();
  }

  /** Registers (or re-registers) a server by its uuid; returns its id. */
  async register(req: { uuid: string; address: string; rack: string; capacity: number; free: number }): Promise<number> {
    const id = await this.db.write(async (tx) => {
      await tx.run(
        `INSERT INTO chunkservers (uuid, address, rack, capacity, free, last_heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (uuid) DO UPDATE SET address = excluded.address, rack = excluded.rack, capacity = excluded.capacity, free = excluded.free`,
        [req.uuid, req.address, req.rack, req.capacity, req.free, Date.now()],
      );
      const row = await tx.get<{ id: number }>('SELECT id FROM chunkservers WHERE uuid = ?', [req.uuid]);
      return row!.id;
    });
    // Another server may have held this address before (a re-used port): only one entry per address.
    const prev = this.servers.get(id);
    this.servers.set(id, {
      id, uuid: req.uuid, address: req.address, rack: req.rack, capacity: req.capacity, used: prev?.used ?? 0, free: req.free,
      load: 0, chunkCount: prev?.chunkCount ?? 0, io: prev?.io ?? NO_IO, lastHeartbeatMs: Date.now(), connected: prev?.connected ?? false,
      draining: prev?.draining ?? false,
    });
    this.log.info('chunkserver registered', { serverId: id, address: req.address });
    this.transitioned();
    return id;
  }

  get(id: number): ServerInfo | undefined {
    return this.servers.get(id);
  }

  all(): ServerInfo[] {
    return [...this.servers.values()].sort((a, b) => a.id - b.id);
  }

  isAlive(id: number): boolean {
    const s = this.servers.get(id);
    return !!s && s.connected && Date.now() - s.lastHeartbeatMs <= this.deadAfterMs;
  }

  private readonly startedAt = Date.now();
  /** Servers that have beaten since this master started. */
  private readonly seen = new Set<number>();

  /**
   * The master started less than `deadAfterMs` ago and a chunkserver it knows has not beaten since:
   * a missing replica may only be late. Callers answer EAGAIN (retried by clients) instead of EIO,
   * and move no version away from a replica that is merely late. A server that beat and then went
   * away is not late but gone.
   */
  settling(): boolean {
    return Date.now() - this.startedAt < this.deadAfterMs && [...this.servers.keys()].some((id) => !this.seen.has(id));
  }

  alive(): ServerInfo[] {
    return this.all().filter((s) => this.isAlive(s.id));
  }

  /** Alive servers in service: where new chunks, copies and moves may go. */
  placeable(): ServerInfo[] {
    return this.all().filter((s) => !s.draining && this.isAlive(s.id));
  }

  /** The server named by its id or host:port (an operator's argument). */
  find(nameOrId: string): ServerInfo | undefined {
    const byId = /^\d+$/.test(nameOrId) ? this.servers.get(Number(nameOrId)) : undefined;
    return byId ?? this.all().find((s) => s.address === nameOrId);
  }

  /** Starts or cancels draining a server; persisted so that a restarted master goes on with it. */
  async setDraining(id: number, draining: boolean): Promise<void> {
    const s = this.servers.get(id);
    if (!s) return;
    await this.db.write((tx) => tx.run('UPDATE chunkservers SET decommission = ? WHERE id = ?', [draining ? 1 : 0, id]));
    s.draining = draining;
    this.log.info(draining ? 'chunkserver decommissioning' : 'chunkserver back in service', { serverId: id, address: s.address });
    this.transitioned();
  }

  /** Forgets a server entirely (its registration); a server that registers again gets a new id. */
  async forget(id: number): Promise<void> {
    await this.db.write((tx) => tx.run('DELETE FROM chunkservers WHERE id = ?', [id]));
    this.servers.delete(id);
    this.seen.delete(id);
    this.generations.delete(id);
    this.reportedDead.delete(id);
  }

  /** Applies a heartbeat's numbers; persists them at most every few seconds (status after restart). */
  beat(id: number, hb: { capacity: number; used: number; free: number; load: number; chunkCount: number; io: ServerIo }): void {
    const s = this.servers.get(id);
    if (!s) return;
    const persist = Date.now() - s.lastHeartbeatMs > 5_000 || s.capacity !== hb.capacity;
    const wasAlive = this.isAlive(id);
    Object.assign(s, hb, { lastHeartbeatMs: Date.now(), connected: true });
    this.seen.add(id);
    if (!wasAlive) this.transitioned();
    if (persist) {
      this.db.write((tx) => tx.run('UPDATE chunkservers SET capacity = ?, used = ?, free = ?, last_heartbeat_ms = ? WHERE id = ?',
        [hb.capacity, hb.used, hb.free, s.lastHeartbeatMs, id])).catch((err: unknown) => this.log.warn('persisting heartbeat failed', { err }));
    }
  }

  /** Servers whose full report on their current heartbeat stream has been applied. */
  private readonly reported = new Set<number>();
  /** Each server's report generation on its current heartbeat stream (replicas.seen_gen). */
  private readonly generations = new Map<number, number>();

  /**
   * A new heartbeat stream begins, its full report stamping replica rows with `gen`: until that
   * report ends, the server's rows are the past's.
   */
  reportStarted(id: number, gen = 0): void {
    this.reported.delete(id);
    this.generations.set(id, gen);
  }

  /**
   * The generation a replica row of this server must carry to survive the sweep at the end of the
   * full report under way (0 when no stream was seen): what code that records replicas the server
   * already holds, outside its reports, stamps them with.
   */
  reportGeneration(id: number): number {
    return this.generations.get(id) ?? 0;
  }

  /** A server's full chunk report has been applied: its stale copies and the chunks it lacks are known. */
  fullReportDone(id: number): void {
    if (!this.servers.has(id)) return;
    this.reported.add(id);
    this.transitioned();
  }

  /**
   * Whether the master's rows for this server reflect what it holds now (its full report on this
   * stream is applied). Until then nothing may be deleted on the strength of its rows.
   */
  reportComplete(id: number): boolean {
    return this.reported.has(id);
  }

  setConnected(id: number, connected: boolean): void {
    const s = this.servers.get(id);
    if (!connected) this.reported.delete(id);
    if (!s || s.connected === connected) return;
    s.connected = connected;
    this.transitioned();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
