/**
 * The declarative description of a daemon's configuration keys, and the checks that turn a raw
 * value (a flag's or environment variable's string, or a TOML value) into a typed one. Each daemon
 * lists its keys once (src/<daemon>/config-keys.ts); commander flags, environment variable names,
 * config file keys, validation and docs/CONFIG.md are all derived from that one table, so they
 * cannot disagree.
 */
import { parseHostPort, parseHostPortList } from './address.js';

export type KeyType =
  | 'string'
  | 'path'
  | 'host-port'
  | 'host-port-list'
  | 'positive-int'
  | 'non-negative-int'
  | 'non-negative-number'
  | 'bool'
  | 'choice'
  | 'string-list'
  | 'path-list'
  | 'byte-size';

export type ConfigValue = string | number | boolean | string[];

export interface ConfigKey {
  /** The long flag without dashes; also the config file key. Example: `lease-ms`. */
  name: string;
  type: KeyType;
  /** What the key does, for --help and docs/CONFIG.md. */
  description: string;
  /** Allowed values of a `choice` key. */
  choices?: readonly string[];
  /** Used when no flag, environment variable or file sets the key; absent: the key stays unset. */
  default?: ConfigValue;
  /** How the docs and --help describe the absent default (e.g. "the listen address"). */
  defaultText?: string;
  /** Startup fails when the key is set nowhere. */
  required?: boolean;
  /** One-letter flag alias, e.g. `f` for `-f, --foreground`. */
  short?: string;
  /** Placeholder in --help, e.g. `ms`; derived from the type when absent. */
  placeholder?: string;
}

export type ConfigSchema = readonly ConfigKey[];

/** What a key of this type must be, completing "must be ...". */
export function typeDescription(key: ConfigKey): string {
  switch (key.type) {
    case 'string': return 'a string';
    case 'path': return 'a path';
    case 'host-port': return 'an address HOST:PORT';
    case 'host-port-list': return 'an address HOST:PORT, or several separated by commas';
    case 'positive-int': return 'a positive integer';
    case 'non-negative-int': return 'a non-negative integer';
    case 'non-negative-number': return 'a non-negative number';
    case 'bool': return 'true or false';
    case 'choice': return `one of ${(key.choices ?? []).map((c) => `'${c}'`).join(', ')}`;
    case 'string-list': return 'a list of strings';
    case 'path-list': return 'a list of paths';
    case 'byte-size': return 'a size in bytes (an integer, or with a suffix K, M, G or T, powers of 1024)';
  }
}

/** Short type name for docs and --help placeholders. */
export function typeLabel(key: ConfigKey): string {
  switch (key.type) {
    case 'host-port': return 'host:port';
    case 'host-port-list': return 'host:port[,host:port...]';
    case 'positive-int': return 'positive int';
    case 'non-negative-int': return 'non-negative int';
    case 'non-negative-number': return 'non-negative number';
    case 'choice': return (key.choices ?? []).join(' \\| ');
    case 'string-list': return 'list of strings';
    case 'path-list': return 'list of paths';
    case 'byte-size': return 'byte size';
    default: return key.type;
  }
}

/** The default as --help and the docs show it: the value, `defaultText`, or "none". */
export function defaultDescription(key: ConfigKey): string {
  if (key.defaultText !== undefined) return key.defaultText;
  if (key.default === undefined) return key.required ? 'required' : 'none';
  return Array.isArray(key.default) ? key.default.join(',') : String(key.default);
}

/** The flag's argument name in --help and messages, e.g. `ms` in `--lease-ms <ms>`. */
export function placeholderOf(key: ConfigKey): string {
  return key.placeholder ?? (key.type === 'host-port' ? 'host:port' : key.type === 'host-port-list' ? 'host:port[,...]' : 'value');
}

export function isListKey(key: ConfigKey): boolean {
  return key.type === 'string-list' || key.type === 'path-list';
}

/** A rejected value; the caller adds where it came from (file, environment, flag). */
export class InvalidValue extends Error {
  override readonly name = 'InvalidValue';
}

/** A raw value as it reads in a message: strings quoted, the rest as TOML would write them. */
export function showValue(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (Array.isArray(raw)) return `[${raw.map(showValue).join(', ')}]`;
  if (raw instanceof Date) return raw.toISOString();
  if (raw !== null && typeof raw === 'object') return 'a table';
  return String(raw);
}

const BYTE_UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([KMGT])(?:iB)?|(B))?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? m[3] ?? '').toUpperCase();
  const n = Number(m[1]) * (BYTE_UNITS[unit] ?? NaN);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A number from a TOML number or a numeric string (flags and environment variables are strings). */
function numberOf(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number(raw);
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw);
  return undefined;
}

function scalar(key: ConfigKey, raw: unknown): ConfigValue | undefined {
  switch (key.type) {
    case 'string':
    case 'path':
      return typeof raw === 'string' && raw !== '' ? raw : undefined;
    case 'host-port':
      if (typeof raw !== 'string') return undefined;
      try {
        parseHostPort(raw);
        return raw.trim();
      } catch {
        return undefined;
      }
    case 'host-port-list':
      if (typeof raw !== 'string') return undefined;
      try {
        parseHostPortList(raw);
        return raw.split(',').map((p) => p.trim()).join(',');
      } catch {
        return undefined;
      }
    case 'positive-int':
    case 'non-negative-int': {
      const n = numberOf(raw);
      const min = key.type === 'positive-int' ? 1 : 0;
      return n !== undefined && Number.isSafeInteger(n) && n >= min ? n : undefined;
    }
    case 'non-negative-number': {
      const n = numberOf(raw);
      return n !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw !== 'string') return undefined;
      if (/^(true|yes|on|1)$/i.test(raw.trim())) return true;
      if (/^(false|no|off|0)$/i.test(raw.trim())) return false;
      return undefined;
    case 'choice':
      return typeof raw === 'string' && (key.choices ?? []).includes(raw) ? raw : undefined;
    case 'byte-size':
      if (typeof raw === 'number' || typeof raw === 'bigint') return Number.isSafeInteger(Number(raw)) && Number(raw) >= 0 ? Number(raw) : undefined;
      return typeof raw === 'string' ? parseByteSize(raw) : undefined;
    case 'string-list':
    case 'path-list':
      return undefined;
  }
}

/**
 * Checks one raw value against its key. A list key takes an array of strings (a single string is
 * a one-element list); `commaList` splits a string on commas, as environment variables spell lists.
 * Throws InvalidValue saying what the key must be and what it got.
 */
export function checkValue(key: ConfigKey, raw: unknown, opts: { commaList?: boolean } = {}): ConfigValue {
  if (isListKey(key)) {
    let items: unknown[] | undefined;
    if (Array.isArray(raw)) items = raw;
    else if (typeof raw === 'string') items = opts.commaList ? raw.split(',').map((s) => s.trim()) : [raw];
    if (items && items.length > 0 && items.every((i) => typeof i === 'string' && i !== '')) return items as string[];
    throw new InvalidValue(`must be ${typeDescription(key)}, not ${showValue(raw)}`);
  }
  const value = scalar(key, raw);
  if (value === undefined) throw new InvalidValue(`must be ${typeDescription(key)}, not ${showValue(raw)}`);
  return value;
}

/** The value as one string: lists joined with commas, as an environment variable would hold it. */
export function valueToString(value: ConfigValue): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** `lease-ms` -> `FST_LEASE_MS`. */
export function envName(key: ConfigKey | string): string {
  const name = typeof key === 'string' ? key : key.name;
  return `FST_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** `lease-ms` -> `leaseMs`, the property commander gives the flag. */
export function camelName(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}
