/**
 * fstadmin wait-ready: waits until a daemon serves, for systemd's ExecStartPost= (the units'
 * readiness, since Node cannot send sd_notify itself; see docs/DEPLOY.md).
 *
 *   fstadmin wait-ready --daemon master|chunkserver|mount|gateway [--config FILE] [--timeout SEC]
 *       polls http://HOST:PORT/health, HOST:PORT being the daemon's metrics-listen as its config
 *       file and FST_* environment give it (a wildcard host is polled on loopback); the gateway
 *       serves /health on its `listen` address itself, over https when tls-cert is set
 *   fstadmin wait-ready --url URL [--timeout SEC]          polls URL until it answers 200
 *   fstadmin wait-ready --mount PATH [--timeout SEC]       waits until PATH is a FUSE mount
 *
 * With --pid PID, or $MAINPID as systemd sets it for ExecStartPost=, it gives up as soon as that
 * process is gone. Exit 0 once ready (one line on stdout), 1 on timeout or when the process died,
 * with the last reason it was not ready.
 * Needs no master address.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseHostPort } from '../../common/config/address.js';
import { resolveConfigValue, type DaemonKind } from '../../common/config/daemon-config.js';
import { CliError, EXIT_FAILURE, usageError } from '../../cli/errors.js';
import type { CliIo } from '../../cli/program.js';
import { fuseMountProbe, httpProbe, waitUntilReady, type HttpProbeOptions, type Probe } from '../units/readiness.js';

interface WaitReadyOptions {
  daemon?: DaemonKind;
  config?: string;
  url?: string;
  mount?: string;
  timeout: number;
  pid?: number;
}

const DEFAULT_TIMEOUT_SEC = 60;

function pidArg(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a process id');
  return n;
}

/** --pid, else $MAINPID: systemd sets it for ExecStartPost= once the main process is known. */
function watchedPid(o: WaitReadyOptions, env: NodeJS.ProcessEnv): number | undefined {
  if (o.pid !== undefined) return o.pid;
  const main = Number(env.MAINPID);
  return Number.isSafeInteger(main) && main > 0 ? main : undefined;
}

function seconds(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

/** Daemons listening on every interface are reached on loopback, the one address surely served. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '[::]') return '[::1]';
  return host;
}

/** Where a daemon's /health is, and how to poll it. */
export interface HealthEndpoint {
  url: string;
  probe: HttpProbeOptions;
}

/**
 * The gateway's /health: on its one port (`listen`, which has a default), https when tls-cert is
 * set. Its certificate is accepted unverified: this is a readiness probe of a daemon on this very
 * machine, polled on an address the certificate does not name, and it learns only a status code.
 */
function gatewayHealth(configPath: string | undefined, env: NodeJS.ProcessEnv): HealthEndpoint {
  const listen = resolveConfigValue('gateway', 'listen', configPath, env)!; // it has a default
  const https = resolveConfigValue('gateway', 'tls-cert', configPath, env) !== undefined;
  const { host, port } = parseHostPort(listen, 'listen');
  return { url: `${https ? 'https' : 'http'}://${loopbackFor(host)}:${port}/health`, probe: { acceptAnyCertificate: https } };
}

/** The /health endpoint of a daemon: its metrics-listen setting, or the gateway's listen. */
export function healthEndpoint(kind: DaemonKind, configPath: string | undefined, env: NodeJS.ProcessEnv): HealthEndpoint {
  if (kind === 'gateway') return gatewayHealth(configPath, env);
  const listen = resolveConfigValue(kind, 'metrics-listen', configPath, env);
  if (listen === undefined) {
    const where = configPath ?? env.FST_CONFIG ?? `fst-${kind}: no --config, FST_CONFIG or FST_METRICS_LISTEN`;
    throw new CliError(`${where}: no metrics-listen, so no /health to wait for (set metrics-listen = "127.0.0.1:PORT")`, 'EINVAL');
  }
  const { host, port } = parseHostPort(listen, 'metrics-listen');
  return { url: `http://${loopbackFor(host)}:${port}/health`, probe: {} };
}

function probeFor(o: WaitReadyOptions, env: NodeJS.ProcessEnv): Probe {
  const chosen = [o.daemon && '--daemon', o.url && '--url', o.mount && '--mount'].filter(Boolean);
  if (chosen.length !== 1) throw usageError('wait-ready: give exactly one of --daemon, --url or --mount');
  if (o.config !== undefined && !o.daemon) throw usageError('wait-ready: --config goes with --daemon');
  if (o.mount) return fuseMountProbe(o.mount);
  if (o.url) {
    if (!URL.canParse(o.url) || !/^https?:$/.test(new URL(o.url).protocol)) throw usageError(`wait-ready: invalid --url '${o.url}' (expected http://HOST:PORT/PATH)`);
    return httpProbe(o.url);
  }
  const health = healthEndpoint(o.daemon!, o.config, env);
  return httpProbe(health.url, health.probe);
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function registerWaitReady(program: Command, io: CliIo): void {
  program.command('wait-ready')
    .description('wait until a daemon serves (/health answers 200) or a path is an FST mount; for ExecStartPost=')
    .addOption(new Option('--daemon <kind>', "poll this daemon's /health, found from its metrics-listen (the gateway's: its listen)")
      .choices(['master', 'chunkserver', 'mount', 'gateway']))
    .option('--config <file>', "the daemon's config file (default: $FST_CONFIG)")
    .option('--url <url>', 'poll this URL until it answers 200')
    .option('--mount <path>', 'wait until PATH is a FUSE mount')
    .option('--timeout <seconds>', 'give up after this long', seconds, DEFAULT_TIMEOUT_SEC)
    .option('--pid <pid>', 'give up as soon as this process is gone (default: $MAINPID, set by systemd)', pidArg)
    .action(async (o: WaitReadyOptions) => {
      const probe = probeFor(o, io.env);
      const watchPid = watchedPid(o, io.env);
      const outcome = await waitUntilReady(probe, { timeoutMs: o.timeout * 1000, watchPid });
      const what = o.daemon ? `fst-${o.daemon} (${probe.target})` : probe.target;
      if (outcome.exited) {
        throw new CliError(`${what} not ready: process ${watchPid} exited (last check: ${outcome.detail})`, 'ECANCELED', EXIT_FAILURE);
      }
      if (!outcome.ready) {
        throw new CliError(`${what} not ready within ${o.timeout} s (last check: ${outcome.detail})`, 'ETIMEDOUT', EXIT_FAILURE);
      }
      io.stdout.write(`${what} ready after ${formatSeconds(outcome.elapsedMs)} (${outcome.detail})\n`);
    });
}
