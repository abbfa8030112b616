/**
 * Go strings are bytes: the reference hub keeps an `id` that is not UTF-8
 * byte for byte (publish answer, SSE `id:`, Last-Event-ID lookup). A JS
 * string cannot hold such bytes, so each byte that is not part of a valid
 * UTF-8 sequence is kept as the lone surrogate U+DC80–U+DCFF (Python's
 * "surrogateescape"); decoding then encoding gives the same bytes back.
 * Valid text is unaffected, and a string without such characters encodes as
 * plain UTF-8.
 */

const strict = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence at b[i] (Go's rules: no overlongs, no surrogates, ≤ U+10FFFF), or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Bytes → string; bytes that are not UTF-8 become U+DC80–U+DCFF. */
export function decodeBytes(b: Uint8Array): string {
  try { return strict.decode(b); } catch { /* not UTF-8: byte by byte below */ }
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = sequenceLength(b, i);
    if (n === 0) { out += String.fromCharCode(0xdc00 | b[i]!); i++; continue; }
    out += strict.decode(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

/** String → bytes, giving back the bytes decodeBytes kept (another lone surrogate becomes U+FFFD, as usual). */
export function encodeString(s: string): Buffer {
  if (s.isWellFormed()) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff && !(i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) <= 0xdbff)) {
      parts.push(Buffer.from(s.slice(start, i), 'utf8'), Buffer.of(c & 0xff));
      start = i + 1;
    }
  }
  parts.push(Buffer.from(s.slice(start), 'utf8'));
  return Buffer.concat(parts);
}

/** A header value node:http received (its bytes as latin1 characters) → the string it stands for. */
export function fromHeader(v: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(v) ? decodeBytes(Buffer.from(v, 'latin1')) : v;
}

/** A string → a header value node:http writes as these bytes (latin1 characters). */
export function toHeader(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(s) ? encodeString(s).toString('latin1') : s;
}
