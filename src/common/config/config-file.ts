/**
 * Reads a daemon's TOML config file into flat key = value pairs. Every failure is an FsError whose
 * message starts with the file's path (and the line, when there is one), so the daemon can print
 * it as its one line on stderr.
 */
import { readFileSync } from 'node:fs';
import { parse, TomlError } from 'smol-toml';
import { FsError, isErrnoName } from '../errors/errno.js';

export interface ConfigFile {
  path: string;
  /** The file's keys, as TOML typed them (strings, numbers, booleans, arrays). */
  values: Record<string, unknown>;
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
};

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new FsError(isErrnoName(code) ? code : 'EIO', `cannot read config file ${path}: ${READ_ERRORS[code] ?? (e as Error).message}`, { cause: e });
  }
}

/** 1-based line where table `name` starts: a `[name]` header, `name = { ... }` or `name.x = ...`. */
function tableLine(text: string, name: string): number | undefined {
  const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const start = new RegExp(`^\\s*(?:\\[\\[?\\s*)?["']?${quoted}["']?\\s*[\\].=]`);
  const i = text.split('\n').findIndex((l) => start.test(l));
  return i >= 0 ? i + 1 : undefined;
}

/** Parses TOML text (what `path` holds) into flat keys; `path` only names the source in errors. */
export function parseConfigText(text: string, path: string): ConfigFile {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new FsError('EINVAL', `${path}: line ${e.line}: ${reason}`, { cause: e });
    }
    throw new FsError('EINVAL', `${path}: ${(e as Error).message}`, { cause: e });
  }
  for (const [key, value] of Object.entries(doc)) {
    // Keys are flat; a [section] would be read as a nested table that no daemon looks into.
    const isTable = value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
    const isTableArray = Array.isArray(value) && value.length > 0 && value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date));
    if (isTable || isTableArray) {
      const line = tableLine(text, key);
      const where = line !== undefined ? `line ${line}: ` : '';
      throw new FsError('EINVAL', `${path}: ${where}section or table '${key}' is not allowed: config keys are flat (key = value, no [sections])`);
    }
  }
  return { path, values: doc };
}

/** Reads and parses a config file; FsError naming the file when it is unreadable or not TOML. */
export function readConfigFile(path: string): ConfigFile {
  return parseConfigText(readText(path), path);
}
