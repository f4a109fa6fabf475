/**
 * The key tables of docs/CONFIG.md, generated from the daemons' schemas. The doc keeps its prose
 * by hand; each table sits between `<!-- BEGIN KEYS <kind> -->` and `<!-- END KEYS <kind> -->`
 * markers and is rewritten by scripts/gen-config-doc.mjs. test/unit/config-doc.test.ts fails when
 * the committed doc differs from what the schemas generate.
 */
import { defaultDescription, envName, typeLabel, type ConfigKey, type ConfigSchema } from './config-schema.js';
import { DAEMON_SCHEMAS, type DaemonKind } from './daemon-config.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function defaultCell(key: ConfigKey): string {
  if (key.required) return '**required**';
  if (key.defaultText !== undefined || key.default === undefined) return cell(defaultDescription(key));
  return `\`${cell(typeof key.default === 'string' ? JSON.stringify(key.default) : defaultDescription(key))}\``;
}

function typeCell(key: ConfigKey): string {
  return key.type === 'choice' ? (key.choices ?? []).map((c) => `\`"${c}"\``).join(' \\| ') : cell(typeLabel(key));
}

/** A Markdown table of every key of a schema: key and flag, environment variable, type, default, meaning. */
export function configKeyTable(schema: ConfigSchema): string {
  const rows = schema.map((k) => {
    const flag = `${k.short ? `-${k.short}, ` : ''}--${k.name}`;
    return `| \`${k.name}\` | \`${flag}\` | \`${envName(k)}\` | ${typeCell(k)} | ${defaultCell(k)} | ${cell(k.description)} |`;
  });
  return ['| Key | Flag | Environment | Type | Default | Meaning |', '|---|---|---|---|---|---|', ...rows].join('\n');
}

function markers(kind: DaemonKind): { begin: string; end: string } {
  return { begin: `<!-- BEGIN KEYS ${kind} (generated from the schema: node scripts/gen-config-doc.mjs) -->`, end: `<!-- END KEYS ${kind} -->` };
}

/** `doc` with every daemon's generated table replaced by the current one. Throws if a marker is missing. */
export function renderConfigDoc(doc: string): string {
  let out = doc;
  for (const kind of Object.keys(DAEMON_SCHEMAS) as DaemonKind[]) {
    const { begin, end } = markers(kind);
    const from = out.indexOf(begin);
    const to = out.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/CONFIG.md lacks the markers ${begin} ... ${end}`);
    out = `${out.slice(0, from + begin.length)}\n${configKeyTable(DAEMON_SCHEMAS[kind])}\n${out.slice(to)}`;
  }
  return out;
}
