/**
 * Typed reads of a resolved configuration. The schema has already checked every value, so a read
 * of the wrong type is a mistake in the daemon's code, not in the user's input: it throws a plain
 * Error rather than an EINVAL meant for the user.
 */
import type { ResolvedConfig } from './daemon-config.js';
import type { ConfigValue } from './config-schema.js';

export class ConfigValues {
  constructor(readonly values: ResolvedConfig) {}

  private get(name: string): ConfigValue | undefined {
    if (!Object.hasOwn(this.values, name)) throw new Error(`no configuration key '${name}' in this daemon's schema`);
    return this.values[name];
  }

  private typed<T>(name: string, check: (v: ConfigValue) => v is ConfigValue & T, what: string): T | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!check(v)) throw new Error(`configuration key '${name}' is not ${what}`);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.typed(name, (v): v is string => typeof v === 'string', 'a string');
  }

  optionalNumber(name: string): number | undefined {
    return this.typed(name, (v): v is number => typeof v === 'number', 'a number');
  }

  /** A key that is required or has a default: always set after resolution. */
  string(name: string): string {
    return this.defined(name, this.optionalString(name));
  }

  number(name: string): number {
    return this.defined(name, this.optionalNumber(name));
  }

  boolean(name: string): boolean {
    return this.defined(name, this.typed(name, (v): v is boolean => typeof v === 'boolean', 'a boolean'));
  }

  /** A choice key's value, typed as one of `allowed` (the same list as the key's choices). */
  choice<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.string(name);
    if (!(allowed as readonly string[]).includes(v)) throw new Error(`configuration key '${name}' is not one of ${allowed.join(', ')}`);
    return v as T;
  }

  list(name: string): string[] {
    return this.typed(name, (v): v is string[] => Array.isArray(v), 'a list') ?? [];
  }

  private defined<T>(name: string, v: T | undefined): T {
    if (v === undefined) throw new Error(`configuration key '${name}' has no value and no default`);
    return v;
  }
}
