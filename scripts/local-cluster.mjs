#!/usr/bin/env node
// Runs a single-machine FST cluster in the foreground: fst-master on 127.0.0.1:9420, three
// fst-chunkservers on 9421-9423 (replication 2), state in $FST_LOCAL_DIR (default ./.fst-local),
// reused on the next start, and the cluster mounted with fst-mount at $FST_MOUNT (default /mnt/fst
// as root, else .fst-local/mnt). Ctrl-C unmounts (flushing) and stops everything.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../dist/common/lifecycle/daemon-node-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const state = resolve(process.env.FST_LOCAL_DIR ?? join(root, '.fst-local'));
const masterPort = Number(process.env.FST_LOCAL_PORT ?? 9420);
const master = `127.0.0.1:${masterPort}`;
const mountpoint = resolve(process.env.FST_MOUNT ?? (process.getuid?.() === 0 ? '/mnt/fst' : join(state, 'mnt')));
mkdirSync(state, { recursive: true });
mkdirSync(mountpoint, { recursive: true });
// A mount left by a killed run would make the new one fail: detach it first.
if (readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mountpoint)) {
  try { execFileSync('fusermount', ['-u', '-z', mountpoint]); } catch { /* not ours or already gone */ }
}

const children = [];
let stopping = false;
function run(name, bin, args) {
  // Own process group: Ctrl-C reaches only this script, which stops the daemons in order (a daemon
  // that got the terminal's SIGINT and then our SIGTERM would take the second as "exit now").
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, join(root, 'bin', bin), ...args], { stdio: ['ignore', 'inherit', 'pipe'], detached: true });
  child.stderr.on('data', (d) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      try {
        const r = JSON.parse(line);
        if (r.level !== 'debug') process.stderr.write(`[${name}] ${r.level}: ${r.msg}${r.address ? ' ' + r.address : ''}\n`);
      } catch {
        process.stderr.write(`[${name}] ${line}\n`);
      }
    }
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`[${name}] exited (${signal ?? code}); stopping the cluster\n`);
      shutdown(1);
    }
  });
  child.fstName = name;
  children.push(child);
  return child;
}

function shutdown(code) {
  if (stopping) return;
  stopping = true;
  // The mount first (it flushes its buffers to the chunkservers), then the daemons (the gateway too).
  const mount = children.find((c) => c.fstName === 'mount');
  const rest = () => { for (const c of [...children].reverse()) if (c !== mount) c.kill('SIGTERM'); };
  if (mount && mount.exitCode === null) {
    mount.once('exit', rest);
    mount.kill('SIGTERM');
  } else rest();
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => shutdown(0));
process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));
process.on('SIGTERM', () => shutdown(0));

// Metrics and health on the gRPC port + 100 (master 9520, chunkservers 9521-9523, mount 9529).
const metrics = (port) => ['--metrics-listen', `127.0.0.1:${port + 100}`];
run('master', 'fst-master.js', ['--data', join(state, 'master'), '--listen', master, '--replication', '2', ...metrics(masterPort)]);
// The master writes the cluster's admin credential at its first start; everything here uses it.
const credentials = join(state, 'master', 'admin.credentials');
for (let waited = 0; !existsSync(credentials); waited += 100) {
  if (waited > 60_000) {
    process.stderr.write(`no ${credentials} after a minute; stopping\n`);
    shutdown(1);
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, 300));
for (let i = 0; i < 3; i++) {
  run(`cs${i}`, 'fst-chunkserver.js', [
    '--master', master, '--data', join(state, `cs${i}`), '--listen', `127.0.0.1:${masterPort + 1 + i}`, '--credentials', credentials, ...metrics(masterPort + 1 + i),
  ]);
}
await new Promise((r) => setTimeout(r, 1500));
run('mount', 'fst-mount.js', ['--master', master, mountpoint, '--foreground', '--credentials', credentials, ...metrics(masterPort + 9)]);
// The HTTP gateway (REST, S3, dashboard) on the master's port + 60, with an access key made at the
// first start (mode 0600): nothing is served anonymously, even on loopback (the key acts as root).
const gatewayKeys = join(state, 'gateway-keys.toml');
if (!existsSync(gatewayKeys)) {
  const id = `FST${randomBytes(8).toString('hex').toUpperCase()}`;
  writeFileSync(gatewayKeys, `# Access keys of the local gateway (docs/GATEWAY.md).\n[[keys]]\nid = "${id}"\nsecret = "${randomBytes(24).toString('base64url')}"\n`, { mode: 0o600 });
}
const gatewayKey = /id = "(.*)"\nsecret = "(.*)"/.exec(readFileSync(gatewayKeys, 'utf8'));
const gateway = `127.0.0.1:${masterPort + 60}`;
run('gateway', 'fst-gateway.js', ['--master', master, '--listen', gateway, '--credentials', credentials, '--keys', gatewayKeys]);
await new Promise((r) => setTimeout(r, 1500));
process.stderr.write(`
FST is running: master ${master}, 3 chunkservers, replication 2, state in ${state}
Every port speaks TLS and takes only cluster credentials; the admin one is ${credentials}.
Mounted at ${mountpoint}. Try, in another shell:
  cp README.md ${mountpoint}/ && cat ${mountpoint}/README.md && ls -l ${mountpoint}
  export FST_MASTER=${master} FST_CREDENTIALS=${credentials}
  npx fstadmin status && npx fst ls -l /
  npx fstadmin credentials create alice --path /alice --out alice.credentials     (a confined credential)
  curl -s 127.0.0.1:${masterPort + 100}/metrics | grep fst_master_chunks     (and /health)
The HTTP gateway: http://${gateway}/ui/ (the dashboard), REST under /files/, S3 at http://${gateway}
  access key ${gatewayKey?.[1]}, secret ${gatewayKey?.[2]} (in ${gatewayKeys})
  curl -u ${gatewayKey?.[1]}:${gatewayKey?.[2]} -T README.md http://${gateway}/files/docs/README.md
Ctrl-C unmounts and stops the cluster.
`);
