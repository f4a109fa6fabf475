/**
 * The bytes a percent-encoded URL component stands for: each %XX becomes its byte, anything else
 * its UTF-8 bytes ('+' is kept: it is not a space in paths, nor in S3's canonical form). `strict`
 * refuses a '%' not followed by two hex digits (paths: a 400); otherwise it stays as it is, as AWS
 * canonicalises query components.
 */
const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

export class BadEscape extends Error {
  override readonly name = 'BadEscape';
}

export function percentDecode(text: string, strict = false): Buffer {
  const src = Buffer.from(text, 'utf8');
  if (!src.includes(0x25)) return src;
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === 0x25 && i + 2 < src.length && isHex(src[i + 1]!) && isHex(src[i + 2]!)) {
      out[n++] = parseInt(String.fromCharCode(src[i + 1]!, src[i + 2]!), 16);
      i += 2;
    } else {
      if (c === 0x25 && strict) throw new BadEscape(`bad percent escape at byte ${i}`);
      out[n++] = c;
    }
  }
  return out.subarray(0, n);
}
