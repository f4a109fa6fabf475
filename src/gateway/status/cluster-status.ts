/**
 * `GET /api/status` for the dashboard: the master's GetClusterStatus (with the gateway's own
 * credential, which must be an admin one), asked at most every 1.5 s however many browsers poll,
 * with rates (calls, reads, writes and bytes per second) from the counters of two answers. The
 * chunk health needs a scan of the master's chunk tables, so it is asked for at most every 30 s.
 */
import { AdminMethods } from '../../common/rpc/services.js';
import { RpcClient } from '../../common/rpc/client.js';
import { FsError } from '../../common/errors/errno.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { Credentials } from '../../common/security/credentials-file.js';
import type { fst } from '../../proto-gen/fst.js';
import { dashboardStatus, type DashboardStatus, type Sample } from './status-json.js';

const BRIEF_EVERY_MS = 1500;
const HEALTH_EVERY_MS = 30_000;

export interface ClusterStatusOptions {
  master: string;
  credentials: Credentials | undefined;
  /** Requests the gateway has answered so far (its own rate is shown too). */
  gatewayRequests: () => number;
}

export class ClusterStatusPoller {
  private readonly rpc: RpcClient;
  private last: Sample | undefined;
  private previous: Sample | undefined;
  private health: { value: fst.IChunkHealth; time: number } | undefined;
  private inFlight: Promise<DashboardStatus> | undefined;

  constructor(private readonly o: ClusterStatusOptions) {
    this.rpc = new RpcClient(o.master, { timeoutMs: 10_000, retryForMs: 2_000, tls: o.credentials && { credentials: o.credentials, server: 'master' } });
  }

  /** The status as of at most 1.5 s ago. */
  get(now = Date.now()): Promise<DashboardStatus> {
    if (this.last && now - this.last.time < BRIEF_EVERY_MS) return Promise.resolve(this.render());
    this.inFlight ??= this.poll(now).finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async poll(now: number): Promise<DashboardStatus> {
    const full = !this.health || now - this.health.time >= HEALTH_EVERY_MS;
    let res: fst.GetClusterStatusResponse;
    try {
      res = await this.rpc.unary(AdminMethods.GetClusterStatus, { brief: !full });
    } catch (e) {
      const err = toFsError(e);
      const why = err.code === 'EACCES' || err.code === 'EPERM' ? "the gateway's credential may not read the cluster status (it needs an admin credential)" : `the master did not answer: ${err.message}`;
      throw new FsError(err.code, why, { cause: err });
    }
    if (full && res.health) this.health = { value: res.health, time: now };
    this.previous = this.last;
    this.last = { time: now, res, gatewayRequests: this.o.gatewayRequests() };
    return this.render();
  }

  private render(): DashboardStatus {
    return dashboardStatus(this.last!, this.previous, this.health);
  }

  close(): void {
    this.rpc.close();
  }
}
