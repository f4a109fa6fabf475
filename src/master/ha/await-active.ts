/**
 * How a master on PostgreSQL starts: it takes the master lease at once when nobody holds it (the
 * first master, or a restart after a clean stop); otherwise it serves as a standby on its port
 * (standby-server.ts), polling the lease, until the active master stops renewing and the lease
 * expires; then it closes the standby server and starts as a restarted master does (chunk leases
 * and delegations of the old master waited out: docs/ARCHITECTURE.md "Several masters, one active").
 */
import { join } from 'node:path';
import { access } from 'node:fs/promises';
import { parseHostPort } from '../../common/config/address.js';
import type { Logger } from '../../common/log/logger.js';
import { readCredentials, type Credentials } from '../../common/security/credentials-file.js';
import { DaemonMetrics } from '../../common/metrics/daemon-metrics.js';
import { startMetricsServer } from '../../common/metrics/metrics-server.js';
import { MasterLease } from './master-lease.js';
import { serveStandby } from './standby-server.js';

export interface AwaitActiveOptions {
  url: string;
  /** The master's listen address (port 0: the standby's port is kept for the active server). */
  listen: string;
  /** The address others reach this master at; default: the listen address with its bound port. */
  advertise?: string;
  dataDir: string;
  insecure: boolean;
  ttlMs?: number;
  log: Logger;
  /** Aborted: stop waiting (the process is stopping). */
  signal: AbortSignal;
  /** The master's --metrics-listen: a standby answers /health there (ready as a standby) and no metrics. */
  metricsListen?: string;
}

/** Listen hosts that name no machine (every interface). */
const WILDCARD = /^(0\.0\.0\.0|\[::\]|::)$/;

/** The address of `listen` with `port` (a wildcard host stays as given: pass --advertise). */
function withPort(listen: string, port: number): string {
  return `${parseHostPort(listen, 'listen address').host}:${port}`;
}

/** The credential a standby serves TLS with: the cluster's, which every master's data dir must hold. */
async function standbyCredential(dataDir: string): Promise<Credentials> {
  const path = join(dataDir, 'tls', 'master.credentials');
  try {
    await access(path);
  } catch {
    throw new Error(`a standby master needs the cluster identity in ${join(dataDir, 'tls')}: copy that directory (and admin.credentials) from the first master's data directory`);
  }
  return readCredentials(path);
}

/** Resolves once this process holds the lease, with the lease and the address to listen on. */
export async function awaitActive(o: AwaitActiveOptions): Promise<{ lease: MasterLease; listen: string }> {
  const lease = await MasterLease.open({ url: o.url, address: o.advertise ?? o.listen, ttlMs: o.ttlMs, log: o.log });
  try {
    if (await lease.tryAcquire()) return { lease, listen: o.listen };
    const tls = o.insecure ? undefined : await standbyCredential(o.dataDir);
    const { server, port } = await serveStandby(o.listen, tls, () => lease.activeAddress, o.log);
    const listen = withPort(o.listen, port);
    lease.address = o.advertise ?? listen;
    // The lease names this very address (this master restarted after it died, say, as systemd
    // does): bound here, it is this process's to take at once, not after the old lease runs out.
    // Not with port 0, whose port is new, nor a wildcard without --advertise, which names no host.
    const ownAddress = o.advertise !== undefined || (parseHostPort(o.listen, 'listen address').port !== 0 && !WILDCARD.test(parseHostPort(o.listen).host));
    // Readiness (fstadmin wait-ready in the unit) of a standby: it serves as one.
    const health = o.metricsListen === undefined ? undefined : await startMetricsServer({
      listen: o.metricsListen, metrics: new DaemonMetrics('fst-master'), log: o.log,
      health: () => ({ ok: true, details: { role: 'standby', active: lease.activeAddress ?? '' } }),
    }).catch((e: unknown) => {
      server.forceShutdown();
      throw e;
    });
    try {
      o.log.info('standby', { address: lease.address, active: lease.activeAddress });
      await lease.acquire(o.signal, ownAddress);
    } finally {
      server.forceShutdown();
      await health?.close();
    }
    return { lease, listen };
  } catch (e) {
    await lease.close();
    throw e;
  }
}
