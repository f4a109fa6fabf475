/**
 * The access keys a gateway accepts (its `--keys FILE`, TOML), each mapped to what it acts as in
 * the cluster: an FST credential (the file of one made with `fstadmin credentials create`, whose
 * read-only flag, caller map and subtree the master enforces; default: the gateway's own) and a
 * caller (uid:gid, default 0:0, which a client credential squashes to nobody unless it maps root).
 *
 *   [[keys]]
 *   id = "AKIAALICE"            # 3-128 characters: letters, digits, - _ .
 *   secret = "..."              # at least 16 characters
 *   credentials = "/etc/fst/alice.credentials"
 *   caller = "1000:1000"
 *   read-only = true            # also refused at the gateway
 */
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { FsError } from '../../common/errors/errno.js';

export interface AccessKey {
  id: string;
  secret: string;
  /** Path of the FST credential it acts as; undefined: the gateway's own. */
  credentials: string | undefined;
  uid: number;
  gid: number;
  readOnly: boolean;
}

const KEY_FIELDS = new Set(['id', 'secret', 'credentials', 'caller', 'read-only']);

function bad(source: string, what: string): FsError {
  return new FsError('EINVAL', `${source}: ${what}`);
}

function parseCaller(v: unknown, source: string): { uid: number; gid: number } {
  if (v === undefined) return { uid: 0, gid: 0 };
  const m = typeof v === 'string' ? /^(\d+):(\d+)$/.exec(v) : null;
  if (!m) throw bad(source, `caller must be "UID:GID", not ${JSON.stringify(v)}`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

export function parseAccessKeys(text: string, source: string): Map<string, AccessKey> {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    throw bad(source, (e as Error).message.split('\n')[0] ?? 'not TOML');
  }
  const extra = Object.keys(doc).filter((k) => k !== 'keys');
  if (extra.length > 0) throw bad(source, `unknown key '${extra[0]}' (expected [[keys]] tables)`);
  const list = doc.keys ?? [];
  if (!Array.isArray(list)) throw bad(source, "'keys' must be an array of tables ([[keys]])");
  const keys = new Map<string, AccessKey>();
  list.forEach((raw: unknown, i) => {
    const at = `${source}: keys[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw bad(at, 'not a table');
    const t = raw as Record<string, unknown>;
    const unknown = Object.keys(t).find((k) => !KEY_FIELDS.has(k));
    if (unknown) throw bad(at, `unknown field '${unknown}'`);
    if (typeof t.id !== 'string' || !/^[A-Za-z0-9._-]{3,128}$/.test(t.id)) throw bad(at, 'id must be 3-128 letters, digits, . _ or -');
    if (typeof t.secret !== 'string' || t.secret.length < 16) throw bad(at, 'secret must be a string of at least 16 characters');
    if (t.credentials !== undefined && typeof t.credentials !== 'string') throw bad(at, 'credentials must be a file path');
    if (t['read-only'] !== undefined && typeof t['read-only'] !== 'boolean') throw bad(at, 'read-only must be true or false');
    if (keys.has(t.id)) throw bad(at, `access key '${t.id}' is listed twice`);
    keys.set(t.id, {
      id: t.id, secret: t.secret, credentials: t.credentials as string | undefined,
      ...parseCaller(t.caller, at), readOnly: t['read-only'] === true,
    });
  });
  return keys;
}

export function readAccessKeys(path: string): Map<string, AccessKey> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FsError('ENOENT', `cannot read the access keys file ${path}: ${(e as Error).message}`);
  }
  return parseAccessKeys(text, path);
}
