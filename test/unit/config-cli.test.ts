/**
 * The command lines generated from the schemas: one flag per key, --help naming each key's
 * environment variable and default, and flags overriding the environment and a --config file
 * (through the chunkserver's parseArgs, the one CLI parser exported for tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { daemonCommand, parseCommandLine, startupErrorMessage } from '../../src/common/config/daemon-cli.js';
import { DAEMON_SCHEMAS, type DaemonKind } from '../../src/common/config/daemon-config.js';
import { parseArgs } from '../../src/chunkserver/main.js';

const dir = mkdtempSync(join(tmpdir(), 'fst-config-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return startupErrorMessage(e);
  }
  throw new Error('no error thrown');
}

describe('generated command lines', () => {
  it('--help lists every key as a flag with its environment variable', () => {
    for (const kind of Object.keys(DAEMON_SCHEMAS) as DaemonKind[]) {
      const help = daemonCommand(`fst-${kind}`, 'test', DAEMON_SCHEMAS[kind]).helpInformation().replace(/\s+/g, ' ');
      expect(help).toContain('--config <file>');
      for (const key of DAEMON_SCHEMAS[kind]) {
        expect(help, `${kind} ${key.name}`).toContain(`--${key.name}`);
        expect(help, `${kind} ${key.name}`).toContain(`FST_${key.name.toUpperCase().replace(/-/g, '_')}`);
      }
    }
  });

  it('keeps only the flags given, by key name; repeated list flags accumulate', () => {
    const schema = DAEMON_SCHEMAS.chunkserver;
    const cl = parseCommandLine(daemonCommand('t', 't', schema), schema, ['node', 't', '--data', '/a', '--data', '/b', '--reserve', '1G'], {});
    expect(cl.flags).toEqual({ data: ['/a', '/b'], reserve: '1G' });
    expect(cl.configPath).toBeUndefined();
    const withEnv = parseCommandLine(daemonCommand('t', 't', schema), schema, ['node', 't'], { FST_CONFIG: '/etc/x.toml' });
    expect(withEnv.configPath).toBe('/etc/x.toml');
  });

  it('reports an unknown flag on one line', () => {
    const schema = DAEMON_SCHEMAS.master;
    const message = errorOf(() => parseCommandLine(daemonCommand('t', 't', schema), schema, ['node', 't', '--replicaton', '3'], {}));
    expect(message).toMatch(/unknown option '--replicaton'/);
    expect(message).not.toContain('\n');
  });
});

describe('fst-chunkserver parseArgs with a config file', () => {
  const config = join(dir, 'chunkserver.toml');
  writeFileSync(config, [
    'master = "10.0.0.1:9420"', `data = ["${join(dir, 'd1')}", "${join(dir, 'd2')}"]`, 'listen = "127.0.0.1:0"',
    'reserve = "1M"', 'scrub-rate-mib = 0.5', 'rack = "r7"', 'metrics-listen = "127.0.0.1:9521"', '',
  ].join('\n'));

  it('takes every key from the file', () => {
    const { options, logLevel } = parseArgs(['node', 'cs', '--config', config], {});
    expect(options).toMatchObject({
      master: '10.0.0.1:9420', dataDirs: [join(dir, 'd1'), join(dir, 'd2')], listen: '127.0.0.1:0', reserveBytes: 1024 * 1024,
      scrubRateBytes: 512 * 1024, scrubIntervalMs: 3_600_000, rack: 'r7', metricsListen: '127.0.0.1:9521',
    });
    expect(logLevel).toBe('info');
  });

  it('lets the environment override the file, and flags override both', () => {
    const env = { FST_RACK: 'env-rack', FST_LOG_LEVEL: 'warn', FST_DATA: '/e1,/e2' };
    const fromEnv = parseArgs(['node', 'cs', '--config', config], env);
    expect(fromEnv.options).toMatchObject({ rack: 'env-rack', dataDirs: ['/e1', '/e2'] });
    expect(fromEnv.logLevel).toBe('warn');
    const fromFlags = parseArgs(['node', 'cs', '--config', config, '--rack', 'flag-rack', '--data', '/f', '--log-level', 'error'], env);
    expect(fromFlags.options).toMatchObject({ rack: 'flag-rack', dataDirs: ['/f'], reserveBytes: 1024 * 1024 });
    expect(fromFlags.logLevel).toBe('error');
  });

  it('names the key of a bad value, in the file or in the environment', () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, 'scrub-rate-mib = "fast"\n');
    expect(errorOf(() => parseArgs(['node', 'cs', '--config', bad], {}))).toBe(`${bad}: key 'scrub-rate-mib' must be a non-negative number, not "fast"`);
    expect(errorOf(() => parseArgs(['node', 'cs', '--config', config], { FST_SCRUB_RATE_MIB: 'x' })))
      .toBe('environment FST_SCRUB_RATE_MIB: must be a non-negative number, not "x"');
    expect(errorOf(() => parseArgs(['node', 'cs', '--config', join(dir, 'none.toml')], {})))
      .toBe(`cannot read config file ${join(dir, 'none.toml')}: no such file`);
  });
});
