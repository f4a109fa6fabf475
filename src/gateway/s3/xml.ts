/**
 * S3's XML: a small serialiser for response bodies and strict parsers for the two request bodies
 * the gateway reads (CompleteMultipartUpload, DeleteObjects). Parsing never expands a DTD entity:
 * a document with a DOCTYPE is refused outright, as AWS refuses it, so no entity bomb can grow.
 */
import { XMLParser } from 'fast-xml-parser';
import { S3Error } from './s3-error.js';
import { escapeXml } from './xml-text.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z_][A-Za-z0-9_.-]*)?$/;

function checkName(name: string): string {
  // Element names come from this codebase, never from a request: a bad one is a bug to surface.
  if (!NAME.test(name)) throw new Error(`not an XML name: ${name}`);
  return name;
}

function text(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new Error(`cannot serialise ${typeof value} as XML text`);
}

/**
 * `value` as element(s) `name`: undefined and null are left out, an array repeats the element, an
 * object's keys become children except `@attr` (attributes) and `#text` (the element's own text).
 */
function element(name: string, value: unknown, rootAttrs = ''): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => element(name, item)).join('');
  checkName(name);
  if (typeof value !== 'object' || value instanceof Date) return `<${name}${rootAttrs}>${text(value)}</${name}>`;
  let attrs = rootAttrs;
  let inner = '';
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined || child === null) continue;
    if (key.startsWith('@')) attrs += ` ${checkName(key.slice(1))}="${text(child)}"`;
    else if (key === '#text') inner += text(child);
    else inner += element(key, child);
  }
  return `<${name}${attrs}>${inner}</${name}>`;
}

/** A response document: `<Root xmlns="http://s3.amazonaws.com/doc/2006-03-01/">...</Root>`. */
export function xmlResponse(root: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${element(root, body, ` xmlns="${S3_XMLNS}"`)}`;
}

const malformed = (cause?: unknown): S3Error => new S3Error('MalformedXML', undefined, cause === undefined ? undefined : { cause });

const isXmlChar = (cp: number): boolean =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

/**
 * Every reference outside CDATA must be one of the five XML entities or a numeric reference to an
 * XML character; anything else (an undeclared or HTML entity, a bare '&', `&#0;`) is malformed.
 */
function checkReferences(xml: string): void {
  xml.split(/<!\[CDATA\[[\s\S]*?\]\]>/).forEach((part) => {
    for (const m of part.matchAll(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos)?(;?)/g)) {
      const ref = m[1];
      if (ref === undefined || m[2] !== ';') throw malformed();
      if (!ref.startsWith('#')) continue;
      const cp = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!isXmlChar(cp)) throw malformed();
    }
  });
}

/** The document as objects, repeated elements at `arrayPaths` (dotted, root first) always arrays. */
function parseDocument(xml: string, arrayPaths: readonly string[]): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw malformed();
  checkReferences(xml);
  const parser = new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    ignoreDeclaration: true,
    ignorePiTags: true,
    parseTagValue: false,
    // Keys may begin or end with spaces: values are trimmed where their schema says so, not here.
    trimValues: false,
    processEntities: true,
    // fast-xml-parser decodes numeric references (SDKs write a key's CR as &#x0D;) only with this
    // on; the HTML named entities it also enables never get here, checkReferences refuses them.
    htmlEntities: true,
    isArray: (_name, path) => typeof path === 'string' && arrayPaths.includes(path),
  });
  try {
    const doc: unknown = parser.parse(xml, true);
    if (typeof doc !== 'object' || doc === null) throw malformed();
    return doc as Record<string, unknown>;
  } catch (err) {
    throw err instanceof S3Error ? err : malformed(err);
  }
}

/** The children of a container element: an object whose own text, if any, is only whitespace. */
function container(value: unknown): Record<string, unknown> {
  if (value === '') return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed();
  const own = (value as Record<string, unknown>)['#text'];
  if (own !== undefined && (typeof own !== 'string' || own.trim() !== '')) throw malformed();
  return value as Record<string, unknown>;
}

function leaf(value: unknown): string {
  if (typeof value !== 'string') throw malformed();
  return value;
}

/**
 * The parts of a CompleteMultipartUpload body, in document order (their order is the caller's to
 * check). ETags come back trimmed and without their surrounding quotes, which clients differ on.
 */
export function parseCompleteMultipartUpload(xml: string): { partNumber: number; etag: string }[] {
  const doc = parseDocument(xml, ['CompleteMultipartUpload.Part']);
  const root = container(doc.CompleteMultipartUpload);
  const parts = (root.Part ?? []) as unknown[];
  if (parts.length === 0) throw malformed();
  return parts.map((p) => {
    const part = container(p);
    const number = leaf(part.PartNumber).trim();
    const etag = leaf(part.ETag).trim().replace(/^"(.*)"$/, '$1');
    const partNumber = Number(number);
    if (!/^\d{1,5}$/.test(number) || partNumber < 1 || partNumber > 10_000 || etag === '') throw malformed();
    return { partNumber, etag };
  });
}

/** How many keys one DeleteObjects request may name. */
export const MAX_DELETE_KEYS = 1000;

/** The keys of a DeleteObjects body, exactly as written (no trimming), and its Quiet flag. */
export function parseDeleteObjects(xml: string): { keys: string[]; quiet: boolean } {
  const doc = parseDocument(xml, ['Delete.Object']);
  const root = container(doc.Delete);
  const objects = (root.Object ?? []) as unknown[];
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformed();
  const keys = objects.map((o) => {
    const key = leaf(container(o).Key);
    if (key === '') throw malformed();
    return key;
  });
  const quietText = root.Quiet === undefined ? 'false' : leaf(root.Quiet).trim().toLowerCase();
  if (quietText !== 'true' && quietText !== 'false') throw malformed();
  return { keys, quiet: quietText === 'true' };
}
