/**
 * Byte-compatible clones of the few Go standard-library encoders whose output
 * reaches Mercure clients: `json.MarshalIndent(v, "", "  ")` (HTML-safe
 * escaping, sorted map keys, struct field order) and `url.QueryEscape` /
 * `url.QueryUnescape`.
 */
import { decodeBytes } from '../transports/core/byte-string.ts';

/** An object whose keys keep their written order (a Go struct). Plain objects are Go maps: keys sorted bytewise. */
export class GoStruct {
  readonly entries: [string, unknown][];
  constructor(entries: [string, unknown][]) {
    this.entries = entries;
  }
}

const HEX = '0123456789abcdef';

/** Encodes a string the way Go's encoding/json does with HTML escaping on. */
export function goString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c < 0x20) {
      switch (c) {
        case 0x08: rep = '\\b'; break;
        case 0x0c: rep = '\\f'; break;
        case 0x0a: rep = '\\n'; break;
        case 0x0d: rep = '\\r'; break;
        case 0x09: rep = '\\t'; break;
        default: rep = '\\u00' + HEX[c >> 4] + HEX[c & 0xf];
      }
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = '\\\\';
    else if (c === 0x3c) rep = '\\u003c';
    else if (c === 0x3e) rep = '\\u003e';
    else if (c === 0x26) rep = '\\u0026';
    else if (c === 0x2028) rep = '\\u2028';
    else if (c === 0x2029) rep = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
      rep = '\ufffd'; // Go replaces invalid UTF-8 with U+FFFD
    }
    if (rep !== undefined) {
      out += s.slice(start, i) + rep;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** Go's float64 formatting in encoding/json matches JavaScript's Number#toString, except for -0. */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError('json: unsupported value');
  return Object.is(n, -0) ? '-0' : String(n);
}

function byteCompare(a: string, b: string): number {
  // UTF-16 order differs from UTF-8 byte order only around surrogates; compare bytes then.
  if (/[^\u0000-\ud7ff]/.test(a + b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : a > b ? 1 : 0;
}

function encode(v: unknown, indent: string, depth: number): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return goString(v);
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const pad = indent ? '\n' + indent.repeat(depth + 1) : '';
  const end = indent ? '\n' + indent.repeat(depth) : '';
  const sep = indent ? ': ' : ':';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[' + v.map((x) => pad + encode(x, indent, depth + 1)).join(',') + end + ']';
  }
  let entries: [string, unknown][];
  if (v instanceof GoStruct) entries = v.entries;
  else entries = Object.keys(v as object).sort(byteCompare).map((k) => [k, (v as Record<string, unknown>)[k]]);
  if (entries.length === 0) return '{}';
  return '{' + entries.map(([k, x]) => pad + goString(k) + sep + encode(x, indent, depth + 1)).join(',') + end + '}';
}

/** json.MarshalIndent(v, "", indent) — no trailing newline. */
export function goMarshalIndent(v: unknown, indent = '  '): string {
  return encode(v, indent, 0);
}

/** json.Marshal(v). */
export function goMarshal(v: unknown): string {
  return encode(v, '', 0);
}

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** url.QueryEscape: keeps A-Z a-z 0-9 - _ . ~, space → '+', every other byte → %XX (upper case). */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    if (b < 0x80 && UNRESERVED.test(ch)) out += ch;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** url.QueryUnescape: '+' → space, %XX decoded; undefined on a malformed escape. */
export function queryUnescape(s: string): string | undefined {
  if (!s.includes('%') && !s.includes('+')) return s;
  // Fast path (every publish's form goes through here): decodeURIComponent
  // decodes exactly the %XX escapes; it throws on a malformed escape or on
  // escapes that are not UTF-8, which the byte-wise decoder below handles as Go does.
  if (s.isWellFormed()) {
    try { return decodeURIComponent(s.replaceAll('+', ' ')); } catch { /* slow path */ }
  }
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return undefined;
      bytes.push(parseInt(h, 16));
      i += 2;
    } else if (c === 0x2b) bytes.push(0x20);
    else if (c < 0x80) bytes.push(c);
    else if (c >= 0xdc80 && c <= 0xdcff) bytes.push(c & 0xff); // a raw byte that was not UTF-8 (byte-string.ts)
    else {
      const cp = s.codePointAt(i)!;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return decodeBytes(Uint8Array.from(bytes)); // bytes that are not UTF-8 are kept (byte-string.ts)
}

/**
 * url.ParseQuery: `&`-separated pairs; a pair holding `;` or a bad escape is
 * dropped and reported through the returned `error` flag (Go returns the first error).
 */
export function parseQuery(raw: string): { values: Map<string, string[]>; error: boolean } {
  const values = new Map<string, string[]>();
  let error = false;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) { error = true; continue; }
    const eq = pair.indexOf('=');
    const k = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const v = queryUnescape(eq < 0 ? '' : pair.slice(eq + 1));
    if (k === undefined || v === undefined) { error = true; continue; }
    const list = values.get(k);
    if (list) list.push(v); else values.set(k, [v]);
  }
  return { values, error };
}
