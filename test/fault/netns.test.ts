/**
 * The network lab helper itself (test/helpers/netns.ts): hosts are reachable over TCP from the
 * root namespace and from each other; cut isolates one host (and only it), heal plugs it back;
 * dispose leaves no namespace, link or route behind.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cidrsOverlap, NetLab } from '../helpers/netns.js';
import { waitFor } from '../helpers/probes.js';

const run = promisify(execFile);
const PORT = 7070;

/** 'ok' when a TCP connection to host:port opens and the server's greeting arrives, else the error. */
function probe(host: string, port = PORT, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (r: string): void => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done('timeout'), timeoutMs);
    s.once('data', (d) => done(String(d) === 'hello' ? 'ok' : `unexpected ${String(d)}`));
    s.once('error', (e) => done((e as NodeJS.ErrnoException).code ?? e.message));
  });
}

/** A TCP server inside host i greeting every connection with "hello"; resolves once it listens. */
async function serveIn(lab: NetLab, i: number): Promise<ChildProcess> {
  const script = `require('net').createServer((s) => s.end('hello')).listen(${PORT}, '${lab.host(i).address}', () => console.log('listening'))`;
  const child = lab.exec(i, process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`server in host ${i} exited with ${code}`)));
  });
  return child;
}

/** Runs the probe from inside host `from` (a node one-liner), answering like probe(). */
async function probeFrom(lab: NetLab, from: number, host: string): Promise<string> {
  const script = `const s=require('net').connect(${PORT},'${host}');const t=setTimeout(()=>{console.log('timeout');process.exit(0)},1500);` +
    `s.on('data',(d)=>{console.log(String(d)==='hello'?'ok':'unexpected');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)})`;
  const child = lab.exec(from, process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return out.trim();
}

/** Waits until `p()` answers 'ok' (a probe that times out on a busy machine is simply tried again). */
async function reachable(what: string, p: () => Promise<string>): Promise<void> {
  await waitFor(what, async () => {
    const r = await p();
    if (r !== 'ok') throw new Error(r);
    return true;
  }, undefined, 200);
}

describe('netns lab helper', () => {
  let lab: NetLab | undefined;
  afterEach(async () => {
    await lab?.dispose();
    lab = undefined;
  });

  it('detects overlapping prefixes', () => {
    expect(cidrsOverlap('10.0.0.0/8', '10.5.6.0/24')).toBe(true);
    expect(cidrsOverlap('10.5.6.7', '10.5.6.0/24')).toBe(true);
    expect(cidrsOverlap('10.5.7.0/24', '10.5.6.0/24')).toBe(false);
    expect(cidrsOverlap('192.168.0.0/16', '10.5.6.0/24')).toBe(false);
  });

  it('connects hosts to the root namespace and each other; cut isolates one host, heal restores it; dispose removes everything', async () => {
    lab = await NetLab.create(2);
    const [h0, h1] = [lab.host(0), lab.host(1)];
    const { stdout: routes } = await run('ip', ['-4', 'route']);
    expect(routes).toContain(lab.subnet);
    await serveIn(lab, 0);
    await serveIn(lab, 1);

    await reachable('host 0 reachable from the root namespace', () => probe(h0.address));
    await reachable('host 1 reachable from the root namespace', () => probe(h1.address));
    await reachable('host 0 reachable from host 1', () => probeFrom(lab!, 1, h0.address));
    // Namespaces really are separate: the host's own address is not the root namespace's.
    expect(await probe(h0.address, PORT + 1)).not.toBe('ok');

    await lab.cut(0);
    expect(await probe(h0.address)).not.toBe('ok');
    expect(await probeFrom(lab, 1, h0.address)).not.toBe('ok');
    await reachable('host 1 still reachable: only host 0 is cut off', () => probe(h1.address));

    await lab.heal(0);
    await reachable('host 0 reachable again after heal', () => probe(h0.address));
    await reachable('host 0 reachable from host 1 again', () => probeFrom(lab!, 1, h0.address));

    const names = { tag: lab.tag, link: lab.rootLink, subnet: lab.subnet };
    expect((await lab.leftovers()).namespaces).toHaveLength(3);
    await lab.dispose();
    await lab.dispose(); // idempotent
    expect((await lab.leftovers())).toEqual({ namespaces: [], rootLink: false });
    const { stdout: nsList } = await run('ip', ['netns', 'list']);
    expect(nsList).not.toContain(names.tag);
    const { stdout: links } = await run('ip', ['link', 'show']);
    expect(links).not.toContain(names.link);
    const { stdout: after } = await run('ip', ['-4', 'route']);
    expect(after).not.toContain(names.subnet);
  });
});
