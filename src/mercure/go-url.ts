/**
 * The request target as Go's net/url reads it, which is what the reference
 * hub routes on (Caddy does not clean `r.URL.Path`):
 *  - `Path`: percent-decoded, dot segments kept. The hub is entered when it
 *    starts with `/.well-known/mercure`.
 *  - `EscapedPath()`: the raw path when it is a valid encoding of Path, else
 *    Path re-encoded (so `"` becomes `%22`, `\` becomes `%5C`, and a raw path
 *    holding such a byte loses its `%2F`s). gorilla/mux matches on it
 *    (UseEncodedPath), and `RequestURI()` (EscapedPath + `?` + RawQuery) is
 *    what the subscriptions API authorises and names.
 * Node's req.url is the raw target (bytes as latin1 characters); WHATWG URL
 * parsing would resolve dot segments and turn `\` into `/`, so it is not used.
 */

/** A raw request target split as Go's url.ParseRequestURI does. */
export interface GoTarget {
  /** Percent-decoded path (UTF-8), or undefined when an escape is malformed (Go answers 400). */
  path: string | undefined;
  /** EscapedPath(). */
  escapedPath: string;
  rawQuery: string;
  /** RequestURI(). */
  requestUri: string;
}

const HEX = '0123456789ABCDEF';

/** Go's shouldEscape(c, encodePath). */
function shouldEscape(c: number): boolean {
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39)) return false;
  switch (c) {
    case 0x2d: case 0x5f: case 0x2e: case 0x7e: // - _ . ~
    case 0x24: case 0x26: case 0x2b: case 0x2c: case 0x2f: case 0x3a: case 0x3b: case 0x3d: case 0x40: // $ & + , / : ; = @
      return false;
    default:
      return true;
  }
}

/** Go's validEncoded(s, encodePath): only characters a path may hold unescaped, and `%`. */
function validEncoded(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ('!$&\'()*+,;=:@[]%'.includes(s[i]!)) continue;
    if (shouldEscape(c)) return false;
  }
  return true;
}

/** Go's unescape(s, encodePath) over bytes; undefined on a malformed escape. */
function unescapeBytes(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return undefined;
      out[n++] = parseInt(h, 16);
      i += 2;
    } else out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/** Go's escape(s, encodePath) over bytes. */
function escapeBytes(b: Uint8Array): string {
  let out = '';
  for (const c of b) out += shouldEscape(c) ? '%' + HEX[c >> 4] + HEX[c & 15] : String.fromCharCode(c);
  return out;
}

/** Splits and reads a raw request target (origin-form or absolute-form). */
export function goTarget(raw: string): GoTarget {
  let target = raw;
  if (!target.startsWith('/')) {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(target);
    target = m ? target.slice(m[0].length) : '';
  }
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  const bytes = unescapeBytes(rawPath);
  let escapedPath = rawPath;
  let path: string | undefined;
  if (bytes) {
    path = Buffer.from(bytes).toString('utf8');
    // The raw form is kept when it is a valid encoding; else Path is re-encoded from its bytes.
    if (!validEncoded(rawPath)) escapedPath = escapeBytes(bytes);
  }
  if (escapedPath === '') escapedPath = '/';
  const requestUri = escapedPath + (q >= 0 ? '?' + rawQuery : '');
  return { path, escapedPath, rawQuery, requestUri };
}
