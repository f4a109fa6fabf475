/**
 * Resolving a daemon's configuration: precedence flag > environment > file > default, TOML files
 * (syntax errors, sections, unknown keys), and that every error names its source and key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText, readConfigFile } from '../../src/common/config/config-file.js';
import { DAEMON_SCHEMAS, resolveConfig, resolveConfigValue, type ConfigSources } from '../../src/common/config/daemon-config.js';
import { FsError } from '../../src/common/errors/errno.js';

const master = DAEMON_SCHEMAS.master;
const chunkserver = DAEMON_SCHEMAS.chunkserver;
const file = (text: string, path = '/etc/fst/master.toml') => parseConfigText(text, path);

function einval(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FsError);
    expect((e as FsError).code).toBe('EINVAL');
    return (e as Error).message;
  }
  throw new Error('no error thrown');
}

describe('precedence', () => {
  const sources = (layers: Partial<ConfigSources>): ConfigSources => ({ env: {}, ...layers });

  it('flag > environment > file > default, key by key', () => {
    const f = file('data = "/f"\nreplication = 3\nlease-ms = 1000\ngc-interval-ms = 7000\n');
    const env = { FST_REPLICATION: '4', FST_LEASE_MS: '2000' };
    const c = resolveConfig(master, sources({ flags: { replication: '5' }, env, file: f }));
    expect(c.replication).toBe(5); // flag over env and file
    expect(c['lease-ms']).toBe(2000); // env over file
    expect(c['gc-interval-ms']).toBe(7000); // file over default
    expect(c['dead-after-ms']).toBe(10000); // default
    expect(c.data).toBe('/f');
    expect(c['metrics-listen']).toBeUndefined();
  });

  it('an empty environment variable counts as unset', () => {
    const c = resolveConfig(master, sources({ env: { FST_DATA: '/d', FST_REPLICATION: '' }, file: file('replication = 3') }));
    expect(c.replication).toBe(3);
  });

  it('repeated flags, file arrays and comma separated variables all make lists', () => {
    const base = { master: '127.0.0.1:1', listen: '127.0.0.1:0' };
    expect(resolveConfig(chunkserver, sources({ flags: { ...base, data: ['/a', '/b'] } })).data).toEqual(['/a', '/b']);
    expect(resolveConfig(chunkserver, sources({ flags: base, env: { FST_DATA: '/x,/y' } })).data).toEqual(['/x', '/y']);
    expect(resolveConfig(chunkserver, sources({ flags: base, file: file('data = ["/p", "/q"]', 'cs.toml') })).data).toEqual(['/p', '/q']);
    // commander leaves an empty array for a list flag that was not given: the file still counts.
    expect(resolveConfig(chunkserver, sources({ flags: { ...base, data: [] }, file: file('data = ["/p"]', 'cs.toml') })).data).toEqual(['/p']);
  });

  it('a required key set nowhere is named with its three spellings', () => {
    expect(einval(() => resolveConfig(master, sources({}))))
      .toBe(`missing 'data': pass --data <dir>, set FST_DATA or add data to the config file`);
    expect(resolveConfig(master, sources({}), { checkRequired: false }).data).toBeUndefined();
  });
});

describe('errors name the source and the key', () => {
  it('unknown file keys, with a suggestion when one is close', () => {
    expect(einval(() => resolveConfig(master, { env: {}, file: file('data = "/d"\nreplicaton = 2') })))
      .toBe(`/etc/fst/master.toml: unknown key 'replicaton' (did you mean 'replication'?)`);
    expect(einval(() => resolveConfig(master, { env: {}, file: file('lease_ms = 2') })))
      .toBe(`/etc/fst/master.toml: unknown key 'lease_ms' (did you mean 'lease-ms'?)`);
    expect(einval(() => resolveConfig(chunkserver, { env: {}, file: file('scrub-rate = 4', 'cs.toml') })))
      .toBe(`cs.toml: unknown key 'scrub-rate' (did you mean 'scrub-rate-mib'?)`);
    expect(einval(() => resolveConfig(master, { env: {}, file: file('colour = "blue"') })))
      .toBe(`/etc/fst/master.toml: unknown key 'colour'`);
  });

  it('bad values from the file, the environment and the flags', () => {
    expect(einval(() => resolveConfig(master, { env: {}, file: file('data = "/d"\nreplication = "two"') })))
      .toBe(`/etc/fst/master.toml: key 'replication' must be a positive integer, not "two"`);
    expect(einval(() => resolveConfig(chunkserver, { env: { FST_SCRUB_RATE_MIB: 'x' }, flags: {} })))
      .toBe(`environment FST_SCRUB_RATE_MIB: must be a non-negative number, not "x"`);
    expect(einval(() => resolveConfig(master, { env: {}, flags: { data: '/d', sync: 'fast' } })))
      .toBe(`option --sync: must be one of 'normal', 'full', not "fast"`);
  });

  it('every source is checked, even where a higher one overrides it', () => {
    const f = file('data = "/d"\nreplication = 0');
    expect(einval(() => resolveConfig(master, { env: {}, flags: { replication: '3' }, file: f })))
      .toBe(`/etc/fst/master.toml: key 'replication' must be a positive integer, not 0`);
    expect(einval(() => resolveConfig(master, { env: { FST_LEASE_MS: 'soon' }, flags: { data: '/d', 'lease-ms': '5' } })))
      .toBe('environment FST_LEASE_MS: must be a positive integer, not "soon"');
  });

  it('a bad value is reported before a missing key', () => {
    expect(einval(() => resolveConfig(chunkserver, { env: {}, file: file('reserve = "10Q"', 'cs.toml') }))).toMatch(/^cs\.toml: key 'reserve' must be a size/);
  });

  it('TOML syntax errors give the line; sections are refused with theirs', () => {
    expect(einval(() => file('data = "/d"\nreplication = \nlisten = "x:1"'))).toBe('/etc/fst/master.toml: line 2: invalid value');
    expect(einval(() => file('data = "/d"\n\n[server]\nlisten = "0.0.0.0:1"')))
      .toBe(`/etc/fst/master.toml: line 3: section or table 'server' is not allowed: config keys are flat (key = value, no [sections])`);
    expect(einval(() => file('listen = { host = "a" }'))).toMatch(/^\/etc\/fst\/master\.toml: line 1: section or table 'listen' is not allowed/);
  });
});

describe('config files on disk and resolveConfigValue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fst-config-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file is ENOENT naming the path', () => {
    const e = (() => {
      try {
        readConfigFile(join(dir, 'none.toml'));
      } catch (err) {
        return err as FsError;
      }
    })();
    expect(e?.code).toBe('ENOENT');
    expect(e?.message).toBe(`cannot read config file ${join(dir, 'none.toml')}: no such file`);
  });

  it('reads one key from env > file > default, as a string', () => {
    const path = join(dir, 'cs.toml');
    writeFileSync(path, 'metrics-listen = "127.0.0.1:9521"\ndata = ["/a", "/b"]\nreserve = "1K"\n');
    expect(resolveConfigValue('chunkserver', 'metrics-listen', path, {})).toBe('127.0.0.1:9521');
    expect(resolveConfigValue('chunkserver', 'metrics-listen', path, { FST_METRICS_LISTEN: '0.0.0.0:1' })).toBe('0.0.0.0:1');
    expect(resolveConfigValue('chunkserver', 'data', path, {})).toBe('/a,/b');
    expect(resolveConfigValue('chunkserver', 'reserve', path, {})).toBe('1024');
    expect(resolveConfigValue('chunkserver', 'scrub-rate-mib', path, {})).toBe('4');
    expect(resolveConfigValue('chunkserver', 'rack', path, {})).toBeUndefined();
    // Required keys set elsewhere (flags) are not demanded here.
    expect(resolveConfigValue('master', 'metrics-listen', undefined, {})).toBeUndefined();
    // Without a path, FST_CONFIG names the file.
    expect(resolveConfigValue('chunkserver', 'metrics-listen', undefined, { FST_CONFIG: path })).toBe('127.0.0.1:9521');
  });

  it('throws EINVAL on an invalid file or an unknown key name', () => {
    const path = join(dir, 'bad.toml');
    writeFileSync(path, 'metrics-listen = "nowhere"\n');
    expect(einval(() => resolveConfigValue('master', 'metrics-listen', path, {})))
      .toBe(`${path}: key 'metrics-listen' must be an address HOST:PORT, not "nowhere"`);
    expect(einval(() => resolveConfigValue('mount', 'no-such-key', undefined, {}))).toMatch(/no-such-key/);
  });
});
