/**
 * The CGI/1.1 variables a FastCGI responder (php-fpm) gets for one request,
 * as Caddy's fastcgi transport builds them: the path is split after the first
 * split extension (ASCII case-insensitive) into the script and PATH_INFO;
 * REQUEST_URI is the original URI, QUERY_STRING the rewritten one; then the
 * configured env (placeholders resolved), then every request header as
 * HTTP_<NAME> (the `Proxy` header skipped: httpoxy).
 */
import type { TLSSocket } from 'node:tls';
import { posix } from 'node:path';
import type { HttpContext } from '../../handler.ts';
import { requestPath } from '../../context.ts';

export interface CgiEnvOptions {
  /** Absolute document root (already resolved). */
  root: string;
  /** Split extensions, e.g. ['.php']. */
  split: string[];
  /** Extra variables; values may hold placeholders. */
  env: Record<string, string>;
  serverSoftware: string;
}

/** ASCII-only lower-casing, so bytes ≥ 0x80 never match a split extension. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/** Index just past the first split extension in path, or -1. */
export function splitPos(path: string, split: string[]): number {
  if (!split.length) return -1;
  const lower = asciiLower(path);
  let best = -1;
  for (const ext of split) {
    const i = lower.indexOf(asciiLower(ext));
    if (i >= 0 && (best < 0 || i + ext.length < best)) best = i + ext.length;
  }
  return best;
}

/** Joins root and a URL path without escaping the root (`..` is cleaned first). */
export function safeJoin(root: string, urlPath: string): string {
  const clean = posix.normalize('/' + urlPath).replace(/^(\/\.\.)+/, '');
  return posix.join(root, clean);
}

export function buildCgiEnv(c: HttpContext, method: string, headers: Record<string, string | string[]>, contentLength: number | undefined, o: CgiEnvOptions): Map<string, string> {
  const fpath = requestPath(c);
  const pos = splitPos(fpath, o.split);
  const docUri = pos >= 0 ? fpath.slice(0, pos) : fpath;
  let pathInfo = pos >= 0 ? fpath.slice(pos) : '';
  const scriptName = docUri.startsWith('/') ? docUri : '/' + docUri;
  if (pathInfo === '') {
    const rem = c.placeholders?.get('http.matchers.file.remainder');
    if (typeof rem === 'string') pathInfo = rem;
  }
  const host = String(headers.host ?? c.req.headers.host ?? '');
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  const serverName = (m?.[1] ?? host).replace(/^\[(.*)\]$/, '$1');
  const serverPort = m?.[2] ?? (c.secure ? '443' : '80');
  const sock = c.req.socket;
  const env = new Map<string, string>([
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', o.serverSoftware],
    ['SERVER_PROTOCOL', `HTTP/${c.req.httpVersion}`],
    ['SERVER_NAME', serverName],
    ['SERVER_PORT', serverPort],
    ['SERVER_ADDR', (sock?.localAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '')],
    ['REMOTE_ADDR', c.remoteAddr],
    ['REMOTE_HOST', c.remoteAddr],
    ['REMOTE_PORT', String(c.remotePort)],
    ['REQUEST_METHOD', method],
    ['REQUEST_SCHEME', c.secure ? 'https' : 'http'],
    ['REQUEST_URI', c.originalUri],
    ['QUERY_STRING', c.url.search.replace(/^\?/, '')],
    ['DOCUMENT_ROOT', o.root],
    ['DOCUMENT_URI', docUri],
    ['SCRIPT_NAME', scriptName],
    ['SCRIPT_FILENAME', safeJoin(o.root, scriptName)],
    ['PATH_INFO', pathInfo],
    ['CONTENT_LENGTH', contentLength === undefined ? '' : String(contentLength)],
    ['CONTENT_TYPE', String(headers['content-type'] ?? (method === 'POST' ? 'application/x-www-form-urlencoded' : ''))],
  ]);
  if (pathInfo) env.set('PATH_TRANSLATED', safeJoin(o.root, pathInfo));
  const user = c.placeholders?.get('http.auth.user.id');
  if (typeof user === 'string') env.set('REMOTE_USER', user);
  if (c.secure) {
    env.set('HTTPS', 'on');
    const tls = sock as TLSSocket;
    if (typeof tls.getProtocol === 'function') {
      env.set('SSL_PROTOCOL', tls.getProtocol() ?? '');
      env.set('SSL_CIPHER', tls.getCipher?.()?.name ?? '');
    }
  }
  for (const [k, v] of Object.entries(o.env)) env.set(k, c.replace(v, true));
  for (const [k, v] of Object.entries(headers)) {
    if (k === 'proxy' || k.startsWith(':')) continue;
    env.set('HTTP_' + k.toUpperCase().replace(/-/g, '_'), Array.isArray(v) ? v.join(', ') : v);
  }
  return env;
}
