/**
 * Text made safe for an XML 1.0 document: the five markup characters escaped, and the code points
 * XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) dropped, since no
 * escape can represent them. Shared by the S3 error body and the response builders.
 */

// Everything outside XML 1.0's Char production. With the `u` flag a lone surrogate is one code
// point in D800-DFFF and so matches here, while a proper pair is a code point above FFFF and does not.
const forbidden = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A parser turns a literal CR into LF; the reference keeps it, so a key with CR reads back as sent.
  '\r': '&#13;',
};

/** `text` as XML character data or attribute value. */
export function escapeXml(text: string): string {
  return text.replace(forbidden, '').replace(/[&<>"'\r]/g, (c) => entities[c] ?? c);
}
