/**
 * Polling for readiness, the stand-in for sd_notify(READY=1): systemd runs
 * `fstadmin wait-ready` as ExecStartPost=, so a unit counts as started only once its daemon serves
 * (HTTP /health answers 200) or its FUSE mount is up.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { isFuse, mountAt, readMountinfo } from './mountinfo.js';

/** One look at the target: ready or not, and a short reason for the timeout message. */
export interface ProbeResult {
  ready: boolean;
  detail: string;
}

export interface Probe {
  /** What is waited for, e.g. "http://127.0.0.1:9520/health" or "/mnt/fst". */
  readonly target: string;
  check(signal: AbortSignal): Promise<ProbeResult>;
}

function describeHttpError(e: NodeJS.ErrnoException): string {
  if (e.name === 'AbortError') return 'no answer in time';
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  return e.code ?? e.message;
}

export interface HttpProbeOptions {
  /**
   * Accept whatever certificate an https:// URL presents, unverified. Only for a daemon's own
   * port on this machine (the gateway's /health): the probe sends nothing secret and reads only the
   * status code, and the daemon's certificate is issued for its public name (or self-signed), not
   * for the loopback address polled.
   */
  acceptAnyCertificate?: boolean;
}

/** Ready when a GET of `url` answers 200. Each request is fresh (no keep-alive socket lingers). */
export function httpProbe(url: string, o: HttpProbeOptions = {}): Probe {
  const https = new URL(url).protocol === 'https:';
  const get = https ? httpsGet : httpGet;
  const tls = https && o.acceptAnyCertificate ? { rejectUnauthorized: false } : {};
  return {
    target: url,
    check: (signal) => new Promise((resolve) => {
      const req = get(url, { agent: false, signal, ...tls }, (res) => {
        res.resume();
        resolve({ ready: res.statusCode === 200, detail: `HTTP ${res.statusCode ?? '?'}` });
      });
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ ready: false, detail: describeHttpError(e) }));
    }),
  };
}

/** Ready when `path` is a FUSE mount point in this process's mount namespace. */
export function fuseMountProbe(path: string, mountinfoFile?: string): Probe {
  return {
    target: path,
    check: async () => {
      const entry = mountAt(await readMountinfo(mountinfoFile), path);
      if (!entry) return { ready: false, detail: 'not a mount point' };
      if (!isFuse(entry)) return { ready: false, detail: `mounted, but as ${entry.fsType}, not FUSE` };
      return { ready: true, detail: `${entry.fsType} mount of ${entry.source}` };
    },
  };
}

/** How waiting ended; `detail` is the last check's (the reason it was not ready on a timeout). */
export interface WaitOutcome {
  ready: boolean;
  /** Not ready because the process given as `watchPid` is gone (no point waiting any longer). */
  exited?: boolean;
  elapsedMs: number;
  detail: string;
}

/** Whether process `pid` exists (signal 0 checks without sending anything; EPERM means it exists). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Longest a single check may take: a daemon that accepts connections but hangs does not stall us. */
const CHECK_TIMEOUT_MS = 5_000;
/** Shortest: the last check before the deadline still gets a fair chance (and a real reason). */
const MIN_CHECK_TIMEOUT_MS = 1_000;

export interface WaitOptions {
  timeoutMs: number;
  /** @default 250 */
  intervalMs?: number;
  /**
   * The daemon's PID: once it is gone, stop waiting. systemd keeps a unit in "activating" until
   * ExecStartPost= ends, even after the daemon died of a bad config: without this, a typo would
   * cost the whole timeout.
   */
  watchPid?: number;
}

/**
 * Checks `probe` every `intervalMs` until it is ready, the watched process is gone, or `timeoutMs`
 * has passed (overrun by at most MIN_CHECK_TIMEOUT_MS when the last check hangs).
 */
export async function waitUntilReady(probe: Probe, o: WaitOptions): Promise<WaitOutcome> {
  const { timeoutMs, intervalMs = 250, watchPid } = o;
  const start = Date.now();
  const deadline = start + timeoutMs;
  let detail = 'not checked';
  for (;;) {
    const checkMs = Math.min(CHECK_TIMEOUT_MS, Math.max(MIN_CHECK_TIMEOUT_MS, deadline - Date.now()));
    const result = await probe.check(AbortSignal.timeout(checkMs)).catch(
      (e: unknown): ProbeResult => ({ ready: false, detail: e instanceof Error ? e.message : String(e) }));
    detail = result.detail;
    if (result.ready) return { ready: true, elapsedMs: Date.now() - start, detail };
    if (watchPid !== undefined && !processExists(watchPid)) return { ready: false, exited: true, elapsedMs: Date.now() - start, detail };
    const wait = Math.min(intervalMs, deadline - Date.now());
    if (wait <= 0) return { ready: false, elapsedMs: Date.now() - start, detail };
    await new Promise((r) => setTimeout(r, wait));
  }
}
