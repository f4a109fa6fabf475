/**
 * The chunkserver's options: what callers (the CLI, tests, the cluster helper) pass, and the
 * checked, resolved configuration the daemon runs with. Bad input is FsError EINVAL naming the
 * option, which the CLI prints as one line.
 */
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { FsError } from '../common/errors/errno.js';
import { formatHostPort, parseHostPort, parseHostPortList, type HostPort } from '../common/config/address.js';
import type { LogLevel, Logger } from '../common/log/logger.js';
import type { CredentialsSource } from '../common/security/credentials-file.js';

export interface ChunkserverOptions {
  /** The master's host:port. @default process.env.FST_MASTER */
  master?: string;
  /** Data directories, one per disk; created when missing. The first one also keeps the UUID. */
  dataDirs: string[];
  /** host:port to listen on; port 0 picks a free port. */
  listen: string;
  /**
   * host:port that clients, peers and the master use; port 0 means the bound port.
   * @default the listen host (for a wildcard host, the first external IPv4 address) and bound port
   */
  advertise?: string;
  /** Placement hint passed to the master. @default '' */
  rack?: string;
  /** Bytes kept free on every data directory. @default 0 */
  reserveBytes?: number;
  /** How long in-flight calls may finish at stop before they are cancelled, in ms. @default 5000 */
  shutdownGraceMs?: number;
  /**
   * A WriteChunk stream that sends nothing for this long fails (ETIMEDOUT), giving up its chunk's
   * turn: a careless or hostile client cannot hold a chunk's writers back. @default 30000
   */
  writeIdleMs?: number;
  /** Bytes per second the scrubber reads to verify checksums; 0 disables it. @default 4 MiB */
  scrubRateBytes?: number;
  /** Rest between two scrub passes, in ms. @default 3600000 (one hour) */
  scrubIntervalMs?: number;
  /** host:port of the HTTP server for /metrics (Prometheus) and /health; undefined: none. */
  metricsListen?: string;
  /**
   * Its credential (a chunkserver or admin one), loaded or as a file's path: TLS on its port and
   * towards the master and peers. Undefined: plaintext, for a master run `--insecure`.
   */
  credentials?: CredentialsSource;
  /** @default createLogger('chunkserver', logLevel) */
  logger?: Logger;
  /** Used when no logger is given. @default process.env.FST_LOG_LEVEL or 'info' */
  logLevel?: LogLevel;
}

export interface ChunkserverConfig {
  master: string;
  dataDirs: string[];
  listen: HostPort;
  /** Advertised host:port; port 0 is replaced by the bound port once known. */
  advertise: HostPort;
  rack: string;
  reserveBytes: number;
  shutdownGraceMs: number;
  scrubRateBytes: number;
  scrubIntervalMs: number;
  writeIdleMs: number;
}

export const DEFAULT_SCRUB_RATE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SCRUB_INTERVAL_MS = 3_600_000;
/** A WriteChunk stream silent this long is ended (it may hold its chunk's turn at the primary). */
export const DEFAULT_WRITE_IDLE_MS = 30_000;

const WILDCARD = new Set(['0.0.0.0', '[::]', '::']);

function externalHost(): string {
  let interfaces: ReturnType<typeof networkInterfaces>;
  try {
    interfaces = networkInterfaces();
  } catch (e) {
    // A sandbox without netlink sockets (systemd RestrictAddressFamilies) cannot list interfaces.
    throw new FsError('EINVAL', `cannot find this machine's address for a wildcard listen address (${(e as Error).message}): set advertise HOST:PORT`);
  }
  for (const addrs of Object.values(interfaces)) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

function count(v: number | undefined, fallback: number, what: string): number {
  const n = v ?? fallback;
  if (!Number.isSafeInteger(n) || n < 0) throw new FsError('EINVAL', `invalid ${what} ${String(v)}`);
  return n;
}

export function compileOptions(o: ChunkserverOptions): ChunkserverConfig {
  const master = o.master ?? process.env.FST_MASTER;
  if (!master) throw new FsError('EINVAL', 'no master address: pass --master HOST:PORT or set FST_MASTER');
  parseHostPortList(master, 'master address');
  if (o.dataDirs.length === 0) throw new FsError('EINVAL', 'no data directory: pass --data DIR at least once');
  const dataDirs = o.dataDirs.map((d) => resolve(d));
  if (new Set(dataDirs).size !== dataDirs.length) throw new FsError('EINVAL', 'a data directory is given twice');
  const listen = parseHostPort(o.listen, 'listen address');
  const advertise = o.advertise !== undefined
    ? parseHostPort(o.advertise, 'advertise address')
    : { host: WILDCARD.has(listen.host) ? externalHost() : listen.host, port: listen.port };
  return {
    master,
    dataDirs,
    listen,
    advertise,
    rack: o.rack ?? '',
    reserveBytes: count(o.reserveBytes, 0, 'reserve bytes'),
    shutdownGraceMs: count(o.shutdownGraceMs, 5_000, 'shutdown grace'),
    scrubRateBytes: count(o.scrubRateBytes, DEFAULT_SCRUB_RATE_BYTES, 'scrub rate'),
    scrubIntervalMs: count(o.scrubIntervalMs, DEFAULT_SCRUB_INTERVAL_MS, 'scrub interval'),
    writeIdleMs: count(o.writeIdleMs, DEFAULT_WRITE_IDLE_MS, 'write idle timeout') || DEFAULT_WRITE_IDLE_MS,
  };
}

/** The advertised address once the listening port is known. */
export function advertisedAddress(c: ChunkserverConfig, boundPort: number): string {
  return formatHostPort({ host: c.advertise.host, port: c.advertise.port || boundPort });
}
