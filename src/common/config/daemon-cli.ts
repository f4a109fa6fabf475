/**
 * A daemon's command line, generated from its configuration schema: one `--<key>` flag per key
 * plus `--config FILE`, then resolution against the environment and the config file. Startup
 * errors become one line on stderr and exit status 2, the contract every daemon keeps.
 */
import { Command, CommanderError, Option } from 'commander';
import { FsError } from '../errors/errno.js';
import { readConfigFile } from './config-file.js';
import { camelName, defaultDescription, envName, isListKey, placeholderOf, type ConfigKey, type ConfigSchema } from './config-schema.js';
import { ConfigValues } from './config-values.js';
import { CONFIG_ENV, configPathFrom, resolveConfig } from './daemon-config.js';

/** The help line of a key: what it does, its allowed values, default and environment variable. */
export function helpText(key: ConfigKey): string {
  const choices = key.type === 'choice' ? `${(key.choices ?? []).join(' | ')}; ` : '';
  return `${key.description} (${choices}${key.required ? 'required' : `default: ${defaultDescription(key)}`}; env ${envName(key)})`;
}

function optionFor(key: ConfigKey): Option {
  const arg = key.type === 'bool' ? '' : ` <${placeholderOf(key)}>`;
  const option = new Option(`${key.short ? `-${key.short}, ` : ''}--${key.name}${arg}`, helpText(key));
  // A repeated list flag adds to the list (chunkserver --data DIR --data DIR).
  if (isListKey(key)) option.argParser((v: string, acc: string[] | undefined) => [...(acc ?? []), v]);
  return option;
}

/** A commander program with `--config` and a flag per key; errors throw instead of exiting. */
export function daemonCommand(name: string, description: string, schema: ConfigSchema): Command {
  const program = new Command(name)
    .description(description)
    .addOption(new Option('--config <file>', `TOML config file whose keys are these options' long names (env ${CONFIG_ENV}; default: none)`));
  for (const key of schema) program.addOption(optionFor(key));
  return program
    .addHelpText('after', '\nPrecedence: flag > environment variable > config file > default. See docs/CONFIG.md.')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
}

export interface CommandLine {
  /** Flag values by key name; keys whose flag was not given are absent. */
  flags: Record<string, unknown>;
  /** --config, else FST_CONFIG. */
  configPath?: string;
  /** Positional arguments. */
  args: string[];
  /** Everything commander parsed, for flags outside the schema (fst-mount's -o). */
  opts: Record<string, unknown>;
}

/** Parses argv (node, script, args...) with a program from daemonCommand. Throws CommanderError. */
export function parseCommandLine(program: Command, schema: ConfigSchema, argv: string[], env: NodeJS.ProcessEnv): CommandLine {
  program.parse(argv);
  const opts = program.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const key of schema) {
    const v = opts[camelName(key.name)];
    if (v !== undefined) flags[key.name] = v;
  }
  return { flags, configPath: configPathFrom(opts.config as string | undefined, env), args: program.args, opts };
}

/** Flags, then the environment, then the config file (when the command line or FST_CONFIG names one). */
export function loadDaemonConfig(schema: ConfigSchema, cl: CommandLine, env: NodeJS.ProcessEnv): ConfigValues {
  const file = cl.configPath !== undefined ? readConfigFile(cl.configPath) : undefined;
  return new ConfigValues(resolveConfig(schema, { flags: cl.flags, env, file }));
}

/** True for the CommanderError of --help (printed already; the daemon exits 0). */
export function isHelpExit(e: unknown): boolean {
  return e instanceof CommanderError && (e.exitCode === 0 || e.code === 'commander.helpDisplayed');
}

/** The one-line message of a startup error: commander's without its "error: ", ours as they are. */
export function startupErrorMessage(e: unknown): string {
  if (e instanceof CommanderError) return e.message.replace(/^error: /, '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  if (e instanceof FsError) return e.message;
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/** Prints `<name>: <message>` and exits 2 (0 after --help). */
export function exitOnStartupError(name: string, e: unknown): never {
  if (isHelpExit(e)) process.exit(0);
  process.stderr.write(`${name}: ${startupErrorMessage(e)}\n`);
  process.exit(2);
}
