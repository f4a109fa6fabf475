/**
 * Turns a shipped unit file into the one installed: its `/usr/local/bin/<tool>` commands become the
 * commands of this installation (see package-paths.ts), quoted as systemd's command lines need.
 */
import { UNIT_TOOLS, type UnitTool } from './package-paths.js';

/**
 * One word of a systemd command line. `%` starts a specifier and `$` a variable, so both are
 * doubled; a word with spaces, quotes or backslashes is double-quoted with C-style escapes.
 */
export function systemdWord(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && !/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const TOOL_PATH = new RegExp(`/usr/local/bin/(${UNIT_TOOLS.join('|')})(?![\\w.-])`, 'g');

/** `text` with every /usr/local/bin/<tool> replaced by `command(tool)`, and a note on its origin. */
export function renderUnit(text: string, source: string, command: (tool: UnitTool) => string[]): string {
  const body = text.replace(TOOL_PATH, (_match, tool: UnitTool) => command(tool).map(systemdWord).join(' '));
  return `# Written by \`fstadmin install-units\` from ${source}: edit a drop-in, not this file.\n${body}`;
}
