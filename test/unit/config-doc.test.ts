/**
 * docs/CONFIG.md against the schemas it documents: its key tables must be exactly what the schemas
 * generate (run `node scripts/gen-config-doc.mjs` after changing a key), and the example files it
 * and systemd/ show must be valid configurations.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/common/config/config-file.js';
import { configKeyTable, renderConfigDoc } from '../../src/common/config/config-doc.js';
import { DAEMON_SCHEMAS, resolveConfig, type DaemonKind } from '../../src/common/config/daemon-config.js';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'CONFIG.md'), 'utf8');
const kinds = Object.keys(DAEMON_SCHEMAS) as DaemonKind[];

describe('docs/CONFIG.md', () => {
  it('has the key tables the schemas generate (else run node scripts/gen-config-doc.mjs)', () => {
    expect(renderConfigDoc(doc)).toBe(doc);
  });

  it('documents every key of every daemon with its environment variable', () => {
    for (const kind of kinds) {
      const table = configKeyTable(DAEMON_SCHEMAS[kind]);
      for (const key of DAEMON_SCHEMAS[kind]) {
        expect(table).toContain(`| \`${key.name}\` |`);
        expect(doc, `${kind} ${key.name}`).toContain(`\`FST_${key.name.toUpperCase().replace(/-/g, '_')}\``);
      }
    }
  });

  it('notices a stale table', () => {
    const stale = doc.replace('| `lease-ms` |', '| `lease-millis` |');
    expect(stale).not.toBe(doc);
    expect(renderConfigDoc(stale)).toBe(doc);
  });

  it('shows example files that each daemon accepts', () => {
    const examples = [...doc.matchAll(/```toml\n# \/etc\/fst\/(master|chunkserver|mount|gateway)[^\n]*\n([\s\S]*?)```/g)];
    expect(examples.map((m) => m[1])).toEqual(['master', 'chunkserver', 'mount', 'gateway']);
    for (const [, name, text] of examples) {
      const kind = name as DaemonKind;
      expect(() => resolveConfig(DAEMON_SCHEMAS[kind], { env: {}, file: parseConfigText(text!, `${kind} example`) })).not.toThrow();
    }
  });
});

describe('the example files in systemd/', () => {
  const files: [DaemonKind, string][] = [['master', 'master.toml'], ['chunkserver', 'chunkserver.toml'], ['mount', 'mount.toml'], ['gateway', 'gateway.toml']];
  for (const [kind, name] of files) {
    const path = join(root, 'systemd', name);
    it.skipIf(!existsSync(path))(`${name} is a valid ${kind} configuration`, () => {
      const file = parseConfigText(readFileSync(path, 'utf8'), path);
      // The units pass nothing else but the mount point, which has a default.
      expect(() => resolveConfig(DAEMON_SCHEMAS[kind], { env: {}, file })).not.toThrow();
    });
  }
});
