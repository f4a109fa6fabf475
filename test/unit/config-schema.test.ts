/**
 * The configuration key types: what each accepts from a flag or environment string and from a TOML
 * value, and that a rejection says what the key must be and what it got.
 */
import { describe, expect, it } from 'vitest';
import { camelName, checkValue, envName, InvalidValue, valueToString, type ConfigKey } from '../../src/common/config/config-schema.js';

const key = (type: ConfigKey['type'], extra: Partial<ConfigKey> = {}): ConfigKey => ({ name: 'k', type, description: 'a key', ...extra });

function rejection(k: ConfigKey, raw: unknown, opts?: { commaList?: boolean }): string {
  try {
    checkValue(k, raw, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidValue);
    return (e as Error).message;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted for a ${k.type} key`);
}

describe('config key types', () => {
  it('positive and non-negative integers take TOML integers and decimal strings', () => {
    expect(checkValue(key('positive-int'), 3)).toBe(3);
    expect(checkValue(key('positive-int'), '60000')).toBe(60000);
    expect(rejection(key('positive-int'), 'two')).toBe('must be a positive integer, not "two"');
    expect(rejection(key('positive-int'), 0)).toBe('must be a positive integer, not 0');
    expect(rejection(key('positive-int'), 1.5)).toBe('must be a positive integer, not 1.5');
    expect(rejection(key('positive-int'), '')).toBe('must be a positive integer, not ""');
    expect(rejection(key('positive-int'), true)).toBe('must be a positive integer, not true');
    expect(checkValue(key('non-negative-int'), 0)).toBe(0);
    expect(rejection(key('non-negative-int'), -1)).toBe('must be a non-negative integer, not -1');
  });

  it('non-negative numbers take fractions and refuse words and negatives', () => {
    expect(checkValue(key('non-negative-number'), '0.5')).toBe(0.5);
    expect(checkValue(key('non-negative-number'), 4)).toBe(4);
    expect(rejection(key('non-negative-number'), 'x')).toBe('must be a non-negative number, not "x"');
    expect(rejection(key('non-negative-number'), '-1')).toBe('must be a non-negative number, not "-1"');
    expect(rejection(key('non-negative-number'), Infinity)).toMatch(/non-negative number, not Infinity/);
  });

  it('host:port addresses are checked as such', () => {
    expect(checkValue(key('host-port'), '127.0.0.1:0')).toBe('127.0.0.1:0');
    expect(checkValue(key('host-port'), '[::1]:9420')).toBe('[::1]:9420');
    expect(rejection(key('host-port'), 'no-port')).toBe('must be an address HOST:PORT, not "no-port"');
    expect(rejection(key('host-port'), '127.0.0.1:99999')).toMatch(/HOST:PORT, not "127\.0\.0\.1:99999"/);
    expect(rejection(key('host-port'), 9420)).toMatch(/HOST:PORT, not 9420/);
  });

  it('choices name every allowed value', () => {
    const sync = key('choice', { choices: ['normal', 'full'] });
    expect(checkValue(sync, 'full')).toBe('full');
    expect(rejection(sync, 'fast')).toBe(`must be one of 'normal', 'full', not "fast"`);
  });

  it('booleans: TOML true/false, and the usual words from the environment', () => {
    expect(checkValue(key('bool'), true)).toBe(true);
    expect(checkValue(key('bool'), 'yes')).toBe(true);
    expect(checkValue(key('bool'), '0')).toBe(false);
    expect(checkValue(key('bool'), 'off')).toBe(false);
    expect(rejection(key('bool'), 'maybe')).toBe('must be true or false, not "maybe"');
    expect(rejection(key('bool'), 1)).toBe('must be true or false, not 1');
  });

  it('byte sizes take integers and K/M/G/T suffixes (powers of 1024)', () => {
    expect(checkValue(key('byte-size'), 0)).toBe(0);
    expect(checkValue(key('byte-size'), '4096')).toBe(4096);
    expect(checkValue(key('byte-size'), '10G')).toBe(10 * 2 ** 30);
    expect(checkValue(key('byte-size'), '512MiB')).toBe(512 * 2 ** 20);
    expect(checkValue(key('byte-size'), '1.5k')).toBe(1536);
    expect(rejection(key('byte-size'), '10Q')).toMatch(/^must be a size in bytes .*, not "10Q"$/);
    expect(rejection(key('byte-size'), -5)).toMatch(/not -5$/);
  });

  it('lists: arrays in a file, comma separated in the environment, a lone string as one item', () => {
    const data = key('path-list');
    expect(checkValue(data, ['/a', '/b'])).toEqual(['/a', '/b']);
    expect(checkValue(data, '/a')).toEqual(['/a']);
    expect(checkValue(data, '/a,/b', { commaList: true })).toEqual(['/a', '/b']);
    expect(rejection(data, ['/a', 3])).toBe('must be a list of paths, not ["/a", 3]');
    expect(rejection(data, [])).toBe('must be a list of paths, not []');
    expect(rejection(data, '/a,', { commaList: true })).toMatch(/list of paths/);
  });

  it('strings must not be empty, and a table is never a value', () => {
    expect(checkValue(key('string'), 'r1')).toBe('r1');
    expect(rejection(key('string'), '')).toBe('must be a string, not ""');
    expect(rejection(key('path'), { a: 1 })).toBe('must be a path, not a table');
  });

  it('names: FST_ + upper case with underscores; camelCase for commander', () => {
    expect(envName('lease-ms')).toBe('FST_LEASE_MS');
    expect(envName('metrics-listen')).toBe('FST_METRICS_LISTEN');
    expect(envName('master')).toBe('FST_MASTER');
    expect(camelName('replication-rate-mib')).toBe('replicationRateMib');
    expect(valueToString(['/a', '/b'])).toBe('/a,/b');
    expect(valueToString(3)).toBe('3');
  });
});
