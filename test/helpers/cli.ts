/** Runs the real CLIs (bin/fst.js, bin/fstadmin.js) as child processes and captures the outcome. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { withCredentials } from './credentials.js';
import { REPO_ROOT } from './daemon-process.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(bin: 'fst' | 'fstadmin', args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, 'bin', `${bin}.js`), ...withCredentials(args, env)], { env: { ...process.env, ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
  });
}

export interface StatusJson {
  servers: {
    serverId: number; address: string; state: string; chunks: number; usedBytes: number; freeBytes: number; capacityBytes: number; lastHeartbeatMs: number; decommission: string;
    reads: number; writes: number; bytesRead: number; bytesWritten: number;
  }[];
  files: number;
  directories: number;
  chunks: number;
  health: { healthy: number; underReplicated: number; missing: number; stale: number; staleReplicas: number; corruptReported: number; overReplicated: number };
  replication: { queued: number; inFlight: number; copied: number; bytesCopied: number; failed: number; staleDeleted: number; lastPassMs: number; trimmed: number };
  rebalance: { state: string; moved: number; bytesMoved: number; bytesToMove: number; maxDeviation: number; queued: number; inFlight: number; failed: number };
  logicalBytes: number;
  masterCalls: number;
  /** The metadata engine: sqlite or postgres. */
  engine: string;
  nowMs: number;
  masters: { address: string; role: string; leaseAgeMs: number; epoch: number }[];
}

export async function adminStatus(master: string): Promise<StatusJson> {
  const r = await runCli('fstadmin', ['--master', master, 'status', '--json']);
  if (r.code !== 0) throw new Error(`fstadmin status failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusJson;
}
