/**
 * The debugging UI (`ui`) and the demo endpoints (`demo`): static files of
 * our own under /.well-known/mercure/ui/ (served like Go's http.FileServer),
 * and `/.well-known/mercure/ui/demo/<anything>`, which answers with the
 * `body` query parameter, discovery `Link` headers and a cookie holding the
 * `jwt` query parameter (intentionally insecure, as in the reference hub).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { notFound, sniffContentType } from './http-util.ts';

export const UI_PREFIX = '/.well-known/mercure/ui/';
export const DEMO_PREFIX = '/.well-known/mercure/ui/demo/';
export const DEFAULT_COOKIE_NAME = 'mercureAuthorization';

/** Go's built-in mime table (mime.TypeByExtension), plus `.jsonld` as the demo registers it. */
const MIME: Record<string, string> = {
  '.avif': 'image/avif', '.css': 'text/css; charset=utf-8', '.gif': 'image/gif',
  '.htm': 'text/html; charset=utf-8', '.html': 'text/html; charset=utf-8', '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.mjs': 'text/javascript; charset=utf-8', '.pdf': 'application/pdf', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.wasm': 'application/wasm', '.webp': 'image/webp',
  '.xml': 'text/xml; charset=utf-8', '.jsonld': 'application/ld+json',
};

/** mime.TypeByExtension(filepath.Ext(path)). */
export function mimeByExtension(path: string): string | undefined {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot <= slash) return undefined;
  const ext = path.slice(dot);
  return MIME[ext] ?? MIME[ext.toLowerCase()];
}

/** The UI files, read once. */
export class UiFiles {
  readonly #files = new Map<string, Buffer>();

  constructor(dir = join(import.meta.dirname, 'ui')) {
    for (const name of ['index.html', 'app.js', 'app.css']) this.#files.set(name, readFileSync(join(dir, name)));
  }

  /** Serves `/.well-known/mercure/ui/<rest>` (any method, as http.FileServer). */
  serve(res: ServerResponse, path: string, method: string): void {
    const rest = path.slice(UI_PREFIX.length);
    if (rest === 'index.html') {
      res.statusCode = 301;
      res.setHeader('Location', './');
      res.end();
      return;
    }
    const name = rest === '' ? 'index.html' : rest;
    const body = this.#files.get(name);
    if (!body) return notFound(res);
    res.statusCode = 200;
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', mimeByExtension(name) ?? 'application/octet-stream');
    res.setHeader('Content-Length', body.length);
    res.end(method === 'HEAD' ? undefined : body);
  }
}

/** Go's sanitizeCookieValue: invalid bytes dropped, quoted when it holds a space or a comma. */
function cookieValue(v: string): string {
  const clean = [...v].filter((ch) => {
    const c = ch.charCodeAt(0);
    return ch.length === 1 && c >= 0x20 && c < 0x7f && ch !== '"' && ch !== ';' && ch !== '\\';
  }).join('');
  return /[ ,]/.test(clean) ? `"${clean}"` : clean;
}

/** The demo endpoint. `requestUri` is the URL as received; `query` the parsed query. */
export function serveDemo(
  res: ServerResponse,
  path: string,
  requestUri: string,
  query: Map<string, string[]>,
  cookieName: string,
  secure: boolean,
): void {
  const hubLink = '</.well-known/mercure>; rel="mercure"';
  res.setHeader('Link', [
    cookieName === DEFAULT_COOKIE_NAME ? hubLink : `${hubLink}; cookie-name="${cookieName}"`,
    `<${requestUri}>; rel="self"`,
  ]);
  const body = query.get('body')?.[0] ?? '';
  const type = mimeByExtension(path) ?? (body === '' ? undefined : sniffContentType(body));
  if (type) res.setHeader('Content-Type', type);
  const jwt = query.get('jwt')?.[0] ?? '';
  let cookie = `${cookieName}=${cookieValue(jwt)}; Path=/.well-known/mercure`;
  if (jwt === '') cookie += '; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (secure) cookie += '; HttpOnly';
  cookie += '; SameSite=Strict';
  res.setHeader('Set-Cookie', cookie);
  res.statusCode = 200;
  res.end(body);
}
