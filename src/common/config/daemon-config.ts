/**
 * A daemon's effective configuration: each key from its command-line flag, else its environment
 * variable (FST_<KEY>), else the config file (--config FILE or FST_CONFIG), else its default. Any
 * invalid input is an FsError EINVAL whose message names where it came from and the key, ready to
 * be the daemon's one line on stderr.
 */
import { FsError } from '../errors/errno.js';
import { readConfigFile, type ConfigFile } from './config-file.js';
import { checkValue, envName, InvalidValue, isListKey, placeholderOf, valueToString, type ConfigKey, type ConfigSchema, type ConfigValue } from './config-schema.js';
import { closestName } from './suggest.js';
// The schemas are plain data next to each daemon's main; they import nothing but common/config,
// so resolving another daemon's config (fstadmin reads a daemon's metrics-listen) needs no daemon code.
import { MASTER_CONFIG_KEYS } from '../../master/config-keys.js';
import { CHUNKSERVER_CONFIG_KEYS } from '../../chunkserver/config-keys.js';
import { MOUNT_CONFIG_KEYS } from '../../client/fuse/config-keys.js';
import { GATEWAY_CONFIG_KEYS } from '../../gateway/config-keys.js';

export type DaemonKind = 'master' | 'chunkserver' | 'mount' | 'gateway';

export const DAEMON_SCHEMAS: Record<DaemonKind, ConfigSchema> = {
  master: MASTER_CONFIG_KEYS,
  chunkserver: CHUNKSERVER_CONFIG_KEYS,
  mount: MOUNT_CONFIG_KEYS,
  gateway: GATEWAY_CONFIG_KEYS,
};

/** Environment variable naming the config file when --config is not given. */
export const CONFIG_ENV = 'FST_CONFIG';

export interface ConfigSources {
  /** Values given on the command line, by key name: strings, string arrays (repeated flags), or true. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  file?: ConfigFile;
}

export interface ResolveOptions {
  /** Fail on a required key that no source sets (off when only some sources are known). @default true */
  checkRequired?: boolean;
}

/** Effective values by key name; undefined for a key without a value or default. */
export type ResolvedConfig = Record<string, ConfigValue | undefined>;

function invalid(where: string, e: unknown): never {
  if (e instanceof InvalidValue) throw new FsError('EINVAL', `${where}${e.message}`);
  throw e;
}

/** Rejects file keys the schema does not know, suggesting the nearest known one. */
function checkFileKeys(schema: ConfigSchema, file: ConfigFile): void {
  const known = schema.map((k) => k.name);
  for (const name of Object.keys(file.values)) {
    if (known.includes(name)) continue;
    const near = closestName(name, known);
    throw new FsError('EINVAL', `${file.path}: unknown key '${name}'${near ? ` (did you mean '${near}'?)` : ''}`);
  }
}

/** Checks `raw` when present; the error names `where` (file and key, variable, or flag). */
function checked(key: ConfigKey, raw: unknown, where: string, commaList = false): ConfigValue | undefined {
  if (raw === undefined) return undefined;
  try {
    return checkValue(key, raw, { commaList });
  } catch (e) {
    return invalid(where, e);
  }
}

/**
 * The key's value from the highest source that sets it. Every source is checked, not only the
 * winner: a bad line in the file must not wait to be found until the flag that hides it is dropped.
 */
function valueOf(key: ConfigKey, sources: ConfigSources): ConfigValue | undefined {
  let flag = sources.flags?.[key.name];
  // commander leaves [] for a repeatable flag that was not given.
  if (Array.isArray(flag) && flag.length === 0) flag = undefined;
  let env = sources.env?.[envName(key)];
  // An empty variable counts as unset, as `FST_MASTER= cmd` is used to clear one.
  if (env === '') env = undefined;
  const file = sources.file && Object.hasOwn(sources.file.values, key.name) ? sources.file.values[key.name] : undefined;
  const fromFile = checked(key, file, `${sources.file?.path}: key '${key.name}' `);
  const fromEnv = checked(key, env, `environment ${envName(key)}: `, isListKey(key));
  const fromFlag = checked(key, flag, `option --${key.name}: `);
  return fromFlag ?? fromEnv ?? fromFile ?? key.default;
}

/** Resolves every key of `schema` from the sources, flag > environment > file > default. */
export function resolveConfig(schema: ConfigSchema, sources: ConfigSources, opts: ResolveOptions = {}): ResolvedConfig {
  if (sources.file) checkFileKeys(schema, sources.file);
  const out: ResolvedConfig = {};
  for (const key of schema) out[key.name] = valueOf(key, sources);
  // Bad values first: a typo in the file explains more than a missing key that it may have caused.
  const missing = opts.checkRequired === false ? undefined : schema.find((k) => k.required && out[k.name] === undefined);
  if (missing) {
    throw new FsError('EINVAL', `missing '${missing.name}': pass --${missing.name} <${placeholderOf(missing)}>, set ${envName(missing)} or add ${missing.name} to the config file`);
  }
  return out;
}

/** The config file path: --config, else FST_CONFIG; undefined when neither names one. */
export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = env[CONFIG_ENV];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined;
}

/**
 * The effective value of one key of a daemon from environment > config file > default (flags are
 * not known here), as a string (lists comma separated); undefined when unset. `configPath`
 * undefined falls back on FST_CONFIG in `env`. Throws FsError EINVAL naming the file or variable
 * and key when the configuration is invalid, as the daemon itself would refuse to start.
 */
export function resolveConfigValue(kind: DaemonKind, key: string, configPath: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const schema = DAEMON_SCHEMAS[kind];
  if (!schema.some((k) => k.name === key)) throw new FsError('EINVAL', `fst-${kind} has no configuration key '${key}'`);
  const path = configPathFrom(configPath, env);
  const file = path !== undefined ? readConfigFile(path) : undefined;
  const value = resolveConfig(schema, { env, file }, { checkRequired: false })[key];
  return value === undefined ? undefined : valueToString(value);
}
