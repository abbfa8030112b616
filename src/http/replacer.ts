/**
 * Runtime placeholders (caddy.md §3.3). `replace(c, s, mode)` scans s once,
 * exactly as Caddy's Replacer does: `\{` and `\}` are escapes, an unclosed `{`
 * is kept, and an unknown key is either kept as written (ReplaceKnown) or
 * replaced by '' (ReplaceAll). Values are looked up per key, never cached
 * across requests; strings without `{` or `\` are returned untouched.
 */
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import type { HttpContext } from './handler.ts';

/** ReplaceAll: unknown placeholders become ''. ReplaceKnown: they stay as written. */
export type ReplaceMode = 'all' | 'known';

/** Extra per-request values set by modules (regexp captures, file matcher, reverse_proxy). */
export function setPlaceholder(c: HttpContext, key: string, value: unknown): void {
  (c.placeholders ??= new Map()).set(key, value);
}

/** Replaces placeholders in s; see the module comment for the rules. */
export function replace(c: HttpContext | undefined, s: string, mode: ReplaceMode = 'known'): string {
  if (!s.includes('{') && !s.includes('\\')) return s;
  let out = '';
  let cursor = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (i > 0 && s.charCodeAt(i - 1) === 92 /* \ */ && (ch === 123 || ch === 125)) {
      out += s.slice(cursor, i - 1);
      cursor = i;
      continue;
    }
    if (ch !== 123 /* { */) continue;
    let end = s.indexOf('}', i);
    if (end < 0) continue;
    while (end > 0 && end < s.length - 1 && s.charCodeAt(end - 1) === 92) {
      const next = s.indexOf('}', end + 1);
      if (next < 0) break;
      end = next;
    }
    const key = s.slice(i + 1, end);
    const value = lookup(c, key);
    if (value === undefined && mode === 'known') {
      out += s.slice(cursor, i);
      cursor = i;
      continue;
    }
    out += s.slice(cursor, i) + (value ?? '');
    i = end;
    cursor = end + 1;
  }
  return out + s.slice(cursor);
}

/** Converts a placeholder value to its string form (arrays joined with ','). */
export function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(toText).join(',');
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

const ARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Common Log Format time: 02/Jan/2006:15:04:05 -0700 (local time). */
export function commonLogTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/** Global placeholders valid without a request: env, system, time, file. */
export function globalValue(key: string): string | undefined {
  if (key.startsWith('env.')) return process.env[key.slice(4)];
  switch (key) {
    case 'system.hostname': return hostname();
    case 'system.os': return process.platform === 'win32' ? 'windows' : process.platform;
    case 'system.arch': return ARCH[process.arch] ?? process.arch;
    case 'system.wd': return process.cwd();
    case 'system.slash': return '/';
    case 'time.now': return new Date().toISOString();
    case 'time.now.http': return new Date().toUTCString();
    case 'time.now.unix': return String(Math.floor(Date.now() / 1000));
    case 'time.now.unix_ms': return String(Date.now());
    case 'time.now.year': return String(new Date().getFullYear());
    case 'time.now.common_log': return commonLogTime(new Date());
  }
  if (key.startsWith('file.')) {
    try {
      const buf = readFileSync(key.slice(5));
      return buf.subarray(0, 1 << 20).toString('utf8').replace(/\r?\n$/, '');
    } catch { return undefined; }
  }
  return undefined;
}

function lookup(c: HttpContext | undefined, key: string): string | undefined {
  if (c && key.startsWith('http.')) {
    const v = httpValue(c, key);
    if (v !== undefined) return v;
    const extra = c.placeholders?.get(key);
    return extra === undefined ? undefined : toText(extra);
  }
  if (c?.placeholders?.has(key)) return toText(c.placeholders.get(key));
  return globalValue(key);
}

/** Splits "host:port" / "[v6]:port" into its parts. */
export function splitHostPort(hp: string): [string, string] {
  if (hp.startsWith('[')) {
    const end = hp.indexOf(']');
    if (end > 0) return [hp.slice(1, end), hp.slice(end + 2)];
  }
  const i = hp.lastIndexOf(':');
  if (i < 0 || hp.indexOf(':') !== i) return [hp, ''];
  return [hp.slice(0, i), hp.slice(i + 1)];
}

/** The request's Host (h2 :authority), with port. */
export function hostPort(c: HttpContext): string {
  const h = c.req.headers;
  return (h[':authority'] as string | undefined) ?? h.host ?? '';
}

/** Percent-decodes a URL path; malformed escapes are kept as written. */
export function decodePath(p: string): string {
  if (!p.includes('%')) return p;
  try { return decodeURIComponent(p); } catch {
    return p.replace(/%[0-9a-fA-F]{2}/g, (m) => { try { return decodeURIComponent(m); } catch { return m; } });
  }
}

function splitPath(p: string): [dir: string, file: string] {
  const i = p.lastIndexOf('/');
  return [p.slice(0, i + 1), p.slice(i + 1)];
}

function ext(file: string): string {
  const i = file.lastIndexOf('.');
  return i < 0 ? '' : file.slice(i);
}

function uriValue(key: string, path: string, rawPath: string, query: string): string | undefined {
  switch (key) {
    case '': return rawPath + (query ? '?' + query : '');
    case '.path': return path;
    case '.path.dir': return splitPath(path)[0];
    case '.path.file': return splitPath(path)[1];
    case '.path.file.base': { const f = splitPath(path)[1]; return f.slice(0, f.length - ext(f).length); }
    case '.path.file.ext': return ext(splitPath(path)[1]);
    case '.path_escaped': return encodeURIComponent(path);
    case '.query': return query;
    case '.query_escaped': return encodeURIComponent(query);
    case '.prefixed_query': case '.?query': return query ? '?' + query : '';
  }
  if (key.startsWith('.path.')) {
    const idx = Number(key.slice(6));
    if (!Number.isInteger(idx) || idx < 0) return undefined;
    const parts = path.split('/');
    if (parts[0] === '') parts.shift();
    return parts[idx] ?? '';
  }
  if (key.startsWith('.query.')) return new URLSearchParams(query).get(key.slice(7)) ?? '';
  return undefined;
}

/** Parses a Cookie header into name → first value. */
export function cookieValue(header: string | undefined, name: string): string {
  if (!header) return '';
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return '';
}

function headerText(v: string | string[] | undefined): string {
  return v === undefined ? '' : Array.isArray(v) ? v.join(',') : v;
}

function tlsValue(c: HttpContext, key: string): string | undefined {
  const sock = c.req.socket as TLSSocket;
  if (!c.secure || typeof sock.getCipher !== 'function') return '';
  switch (key) {
    case 'version': return (sock.getProtocol() ?? '').toLowerCase().replace('tlsv', 'tls');
    case 'cipher_suite': return sock.getCipher()?.standardName ?? '';
    case 'resumed': return String(sock.isSessionReused());
    case 'proto': return sock.alpnProtocol || '';
    case 'proto_mutual': return 'true';
    case 'server_name': return (sock as TLSSocket & { servername?: string }).servername || '';
  }
  if (key.startsWith('client.')) {
    const cert = sock.getPeerX509Certificate?.();
    if (!cert) return '';
    switch (key.slice(7)) {
      case 'fingerprint': return cert.fingerprint256.replaceAll(':', '').toLowerCase();
      case 'issuer': return cert.issuer;
      case 'serial': return BigInt('0x' + cert.serialNumber).toString();
      case 'subject': return cert.subject;
      case 'certificate_pem': return cert.toString();
      case 'certificate_der_base64': return cert.raw.toString('base64');
    }
  }
  return undefined;
}

function httpValue(c: HttpContext, key: string): string | undefined {
  if (key.startsWith('http.request.')) return requestValue(c, key.slice(13));
  if (key.startsWith('http.vars.')) return toText(c.vars.get(key.slice(10)));
  if (key.startsWith('http.error.')) {
    const e = c.error;
    if (!e) return '';
    switch (key.slice(11)) {
      case 'status_code': return String(e.status);
      case 'status_text': return STATUS_TEXT(e.status);
      case 'message': return e.message;
      case 'id': return toText(c.placeholders?.get('http.error.id'));
      case 'trace': return toText(c.placeholders?.get('http.error.trace'));
    }
    return undefined;
  }
  if (key.startsWith('http.response.header.')) return headerText(c.res.getHeader(key.slice(21)) as string | string[] | undefined);
  return undefined;
}

function STATUS_TEXT(code: number): string { return STATUS_CODES[code] ?? ''; }

function requestValue(c: HttpContext, key: string): string | undefined {
  const req = c.req;
  switch (key) {
    case 'method': return req.method ?? '';
    case 'orig_method': return (c.vars.get('http.orig_method') as string | undefined) ?? req.method ?? '';
    case 'scheme': return c.secure ? 'https' : 'http';
    case 'proto': return `HTTP/${req.httpVersion === '2.0' ? '2.0' : req.httpVersion}`;
    case 'host': return splitHostPort(hostPort(c))[0];
    case 'hostport': return hostPort(c);
    case 'port': return splitHostPort(hostPort(c))[1];
    case 'remote': return c.remoteAddr.includes(':') ? `[${c.remoteAddr}]:${c.remotePort}` : `${c.remoteAddr}:${c.remotePort}`;
    case 'remote.host': return c.remoteAddr;
    case 'remote.port': return String(c.remotePort);
    case 'uuid': {
      let id = c.vars.get('http.request.uuid') as string | undefined;
      if (!id) { id = crypto.randomUUID(); c.vars.set('http.request.uuid', id); }
      return id;
    }
    case 'duration': case 'duration_ms': {
      const start = c.vars.get('http.request.start') as number | undefined;
      const ms = start === undefined ? 0 : performance.now() - start;
      return key === 'duration' ? `${(ms / 1000).toFixed(6)}s` : ms.toFixed(3);
    }
    case 'uri_escaped': return encodeURIComponent(c.url.pathname + c.url.search);
  }
  if (key === 'uri' || key.startsWith('uri.')) {
    const q = c.url.search.slice(1);
    return uriValue(key.slice(3), decodePath(c.url.pathname), c.url.pathname, q);
  }
  if (key === 'orig_uri' || key.startsWith('orig_uri.')) {
    const o = c.originalUri;
    const qi = o.indexOf('?');
    const raw = qi < 0 ? o : o.slice(0, qi);
    return uriValue(key.slice(8), decodePath(raw), raw, qi < 0 ? '' : o.slice(qi + 1));
  }
  if (key.startsWith('header.')) return headerText(req.headers[key.slice(7).toLowerCase()]);
  if (key.startsWith('cookie.')) return cookieValue(req.headers.cookie, key.slice(7));
  if (key.startsWith('host.labels.')) {
    const idx = Number(key.slice(12));
    const labels = splitHostPort(hostPort(c))[0].split('.');
    if (!Number.isInteger(idx) || idx < 0) return undefined;
    return idx >= labels.length ? '' : labels[labels.length - idx - 1];
  }
  if (key.startsWith('tls.')) return tlsValue(c, key.slice(4));
  return undefined;
}

