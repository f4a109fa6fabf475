/**
 * The systemd units as `fstadmin install-units` installs them: rendered with this installation's
 * paths, accepted by `systemd-analyze verify` without a warning about them, shipped configs valid for
 * their daemon and giving wait-ready its /health, the gateway's keys file private, operator's
 * configs kept on a re-run. Runs install-units in-process with --root on a
 * temporary directory, so it needs neither root nor a booted systemd.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fstadminInProcess } from '../helpers/admin-in-process.js';
import type { CliResult } from '../helpers/cli.js';
import { unitName } from '../../src/admin/commands/install-units.js';
import { healthEndpoint } from '../../src/admin/commands/wait-ready.js';
import { renderUnit, systemdWord } from '../../src/admin/units/render-unit.js';
import { readConfigFile } from '../../src/common/config/config-file.js';
import { DAEMON_BINS, DAEMON_NODE_FLAGS } from '../../src/common/lifecycle/daemon-node-flags.js';
import { DAEMON_SCHEMAS, resolveConfig, type DaemonKind } from '../../src/common/config/daemon-config.js';
import { parseAccessKeys } from '../../src/gateway/auth/access-keys.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const SHIPPED = join(REPO_ROOT, 'systemd');

const fstadmin = (...args: string[]): Promise<CliResult> => fstadminInProcess(args, { PATH: process.env.PATH });

/** systemd-analyze verify on one unit file; its stderr lines that concern FST's units. */
function verify(unitFile: string): Promise<{ code: number; ourLines: string[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', '--man=no', unitFile], (err, _stdout, stderr) => {
      // verify also reports problems of unrelated units it loads along (the host's own): keep ours.
      const ourLines = stderr.split('\n').filter((l) => /fst/i.test(l));
      resolve({ code: err ? Number(err.code ?? 1) : 0, ourLines, stderr });
    });
  });
}

let root: string;
let install: Awaited<ReturnType<typeof fstadmin>>;
const unitDir = (): string => join(root, 'etc/systemd/system');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fst-units-'));
  install = await fstadmin('install-units', '--root', root, '--no-enable');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('fstadmin install-units --root', () => {
  it('writes the units, the sysusers file and the example configs, and says what comes next', async () => {
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect((await readdir(unitDir())).sort()).toEqual(['fst-chunkserver@.service', 'fst-gateway.service', 'fst-master.service', 'fst-mount@.service']);
    expect((await readdir(join(root, 'etc/fst'))).sort()).toEqual(['chunkserver-disk1.toml', 'gateway-keys.toml', 'gateway.toml', 'master.toml', 'mount.toml']);
    expect(await readFile(join(root, 'etc/sysusers.d/fst.conf'), 'utf8')).toBe(await readFile(join(SHIPPED, 'fst.sysusers.conf'), 'utf8'));
    expect(install.stdout).toMatch(/written +\S+\/etc\/systemd\/system\/fst-master\.service/);
    expect(install.stdout).toContain('user fst: not created (--root)');
    expect(install.stdout).toContain('systemd: left alone (--no-enable)');
    expect(install.stdout).toContain('systemctl enable --now fst-master');
    expect(install.stdout).toContain('systemctl enable --now fst-chunkserver@disk1');
    expect(install.stdout).toContain('systemctl enable --now fst-mount@mnt-fst');
    expect(install.stdout).toContain('systemctl enable --now fst-gateway');
  });

  it("writes the gateway's keys file mode 0600, and says who must own it", async () => {
    const keys = join(root, 'etc/fst/gateway-keys.toml');
    expect((await stat(keys)).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'etc/fst/gateway.toml'))).mode & 0o777).toBe(0o644);
    expect(install.stdout).toContain(`${keys}: not given to user fst (--root): chown fst:fst it`);
  });

  it("renders the commands with this node and this package's bin/*.js", async () => {
    const master = await readFile(join(unitDir(), 'fst-master.service'), 'utf8');
    expect(master).toContain(`ExecStart=${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} ${join(REPO_ROOT, 'bin/fst-master.js')} --config /etc/fst/master.toml`);
    expect(master).toContain(`ExecStartPost=${process.execPath} ${join(REPO_ROOT, 'bin/fstadmin.js')} wait-ready --daemon master`);
    const gateway = await readFile(join(unitDir(), 'fst-gateway.service'), 'utf8');
    expect(gateway).toContain(`ExecStart=${process.execPath} ${DAEMON_NODE_FLAGS.join(' ')} ${join(REPO_ROOT, 'bin/fst-gateway.js')} --config /etc/fst/gateway.toml`);
    expect(gateway).toContain(`ExecStartPost=${process.execPath} ${join(REPO_ROOT, 'bin/fstadmin.js')} wait-ready --daemon gateway --config /etc/fst/gateway.toml`);
    for (const name of await readdir(unitDir())) {
      expect(await readFile(join(unitDir(), name), 'utf8')).not.toMatch(/^Exec\w*=.*\/usr\/local\/bin/m);
    }
  });

  it('produces units that systemd-analyze verify accepts without a warning about them', async () => {
    // Templates are verified as instances, the way systemd will load them.
    const instances = join(root, 'instances');
    await mkdir(instances);
    const files = {
      'fst-master.service': 'fst-master.service',
      'fst-chunkserver@.service': 'fst-chunkserver@disk1.service',
      'fst-mount@.service': 'fst-mount@mnt-fst.service',
      'fst-gateway.service': 'fst-gateway.service',
    };
    for (const [template, instance] of Object.entries(files)) {
      await copyFile(join(unitDir(), template), join(instances, instance));
      const r = await verify(join(instances, instance));
      expect(r.ourLines, `${instance}:\n${r.stderr}`).toEqual([]);
      expect(r.code, `${instance}:\n${r.stderr}`).toBe(0);
    }
  });

  it('quotes commands for systemd: spaces, %, $', async () => {
    expect(systemdWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdWord('/opt/100%/$HOME')).toBe('/opt/100%%/$$HOME');
    expect(systemdWord('/opt/my node/"x"')).toBe('"/opt/my node/\\"x\\""');
    // systemd itself must find the executable behind a quoted path with a space.
    const spaced = join(root, 'my node');
    await mkdir(spaced);
    await symlink(process.execPath, join(spaced, 'node'));
    const shipped = await readFile(join(SHIPPED, 'fst-master.service'), 'utf8');
    const unit = join(root, 'fst-quoted.service');
    await writeFile(unit, renderUnit(shipped, 'test', (tool) => [join(spaced, 'node'), join(REPO_ROOT, 'bin', `${tool}.js`)]));
    expect(await readFile(unit, 'utf8')).toContain(`ExecStart="${spaced}/node" `);
    const r = await verify(unit);
    expect(r.ourLines, r.stderr).toEqual([]);
  });

  it('starts the daemons with their node flags also when a bin script runs by its shebang', async () => {
    for (const bin of DAEMON_BINS) {
      const script = join(REPO_ROOT, 'bin', `${bin}.js`);
      expect((await readFile(script, 'utf8')).split('\n')[0]).toBe(`#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
      // The kernel runs it through env -S, which must find node and split the flags.
      const help = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(script, ['--help'], { env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}` } },
          (err, out) => resolve({ code: err ? Number(err.code ?? 1) : 0, out }));
      });
      expect(help.code, `${bin} --help`).toBe(0);
      expect(help.out).toContain('Usage');
    }
  });

  it('would see a problem in a unit: verify warns about it by name', async () => {
    const broken = join(root, 'fst-broken.service');
    await writeFile(broken, '[Service]\nType=exec\nExecStart=/bin/true\nRestartt=on-failure\n');
    expect((await verify(broken)).ourLines.join('\n')).toContain("Unknown key 'Restartt'");
  });

  it('ships units that verify too, but for the /usr/local/bin commands missing on this machine', async () => {
    for (const name of ['fst-master.service', 'fst-chunkserver@.service', 'fst-mount@.service', 'fst-gateway.service']) {
      const r = await verify(join(SHIPPED, name));
      const unexpected = r.ourLines.filter((l) => !/Command \/usr\/local\/bin\/(fst-master|fst-chunkserver|fst-mount|fst-gateway|fstadmin) is not executable: No such file or directory/.test(l));
      expect(unexpected, `${name}:\n${r.stderr}`).toEqual([]);
    }
  });

  it('ships example configs that their daemon accepts, where wait-ready finds /health on loopback', () => {
    const examples: [string, DaemonKind][] = [['master.toml', 'master'], ['chunkserver.toml', 'chunkserver'], ['mount.toml', 'mount'], ['gateway.toml', 'gateway']];
    for (const [file, kind] of examples) {
      const config = resolveConfig(DAEMON_SCHEMAS[kind], { file: readConfigFile(join(SHIPPED, file)) });
      // The gateway serves /health on its one port; the others on metrics-listen.
      expect(config[kind === 'gateway' ? 'listen' : 'metrics-listen'], file).toMatch(/^127\.0\.0\.1:9[45]\d\d$/);
      expect(healthEndpoint(kind, join(SHIPPED, file), {}).url, file).toMatch(/^http:\/\/127\.0\.0\.1:9[45]\d\d\/health$/);
    }
    // Anonymous access stays off however many keys the keys file holds (auto would open it when empty).
    expect(readConfigFile(join(SHIPPED, 'gateway.toml')).values.anonymous).toBe('none');
  });

  it('ships a keys example that holds no key, and whose commented keys parse once given secrets', async () => {
    const text = await readFile(join(SHIPPED, 'gateway-keys.toml'), 'utf8');
    expect(parseAccessKeys(text, 'gateway-keys.toml').size).toBe(0);
    const example = text.split('\n').filter((l) => /^# (\[\[keys\]\]|[a-z-]+ = )/.test(l)).map((l) => l.slice(2)).join('\n');
    // The placeholders are refused, so an example uncommented as it stands cannot start a gateway.
    expect(() => parseAccessKeys(example, 'example')).toThrow(/secret must be a string of at least 16 characters/);
    const keys = parseAccessKeys(example.replaceAll('"CHANGE-ME"', '"0123456789abcdef0123"'), 'example');
    expect([...keys.values()].map((k) => [k.id, k.credentials, k.uid, k.readOnly]))
      .toEqual([['alice', '/etc/fst/alice.credentials', 1000, false], ['backup-reader', undefined, 0, true]]);
  });

  it('keeps configs and leaves unchanged units alone on a second run; --prefix uses DIR/bin', async () => {
    const masterToml = join(root, 'etc/fst/master.toml');
    await writeFile(masterToml, 'data = "/srv/meta"\n');
    const again = await fstadmin('install-units', '--root', root, '--no-enable');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/kept +\S+master\.toml +\(exists: not overwritten\)/);
    expect(again.stdout).toMatch(/unchanged +\S+fst-master\.service/);
    expect(await readFile(masterToml, 'utf8')).toBe('data = "/srv/meta"\n');

    const prefixed = await fstadmin('install-units', '--root', root, '--no-enable', '--prefix', '/opt/fst');
    expect(prefixed.code).toBe(0);
    expect(prefixed.stdout).toMatch(/written +\S+fst-master\.service/);
    const master = await readFile(join(unitDir(), 'fst-master.service'), 'utf8');
    expect(master).toContain('ExecStart=/opt/fst/bin/fst-master --config /etc/fst/master.toml');
    expect(master).toContain('ExecStartPost=/opt/fst/bin/fstadmin wait-ready');
  });

  it('warns when node or FST sits under /home or /root, which ProtectHome=yes hides from the daemons', async () => {
    const r = await fstadmin('install-units', '--root', root, '--no-enable', '--prefix', '/home/ops/.local');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('warning: /home/ops/.local/bin/fst-master is under a home directory');
  });

  it('names the units given to --enable in full', () => {
    expect(['master', 'fst-master.service', 'chunkserver@disk1', 'fst-chunkserver@disk1.service', 'mount@mnt-fst', 'gateway', 'fst-gateway.service'].map(unitName))
      .toEqual(['fst-master.service', 'fst-master.service', 'fst-chunkserver@disk1.service', 'fst-chunkserver@disk1.service', 'fst-mount@mnt-fst.service',
        'fst-gateway.service', 'fst-gateway.service']);
    for (const bad of ['chunkserver', 'chunkserver@', 'mount@/mnt/fst', 'fst-mount', 'gateway@a']) expect(() => unitName(bad)).toThrow(/unknown unit/);
  });

  it('fails with one line and exit 1 when it cannot write, and exit 2 for an unknown unit', async () => {
    const blocked = join(root, 'a-file');
    await writeFile(blocked, '');
    const r = await fstadmin('install-units', '--root', blocked, '--no-enable');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fstadmin: .*a-file\/etc\/systemd\/system\/fst-master\.service: Not a directory \(ENOTDIR\)\n$/);

    const u = await fstadmin('install-units', '--enable', 'fst-thing');
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/^fstadmin: install-units: unknown unit 'fst-thing'.*\(EINVAL\)\n$/);
  });
});
