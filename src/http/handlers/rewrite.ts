/**
 * `http.handlers.rewrite` (`rewrite`, `uri`, and the prefix strip of
 * `handle_path`): changes the request URI that later handlers see
 * (c.url); `{http.request.orig_uri}` keeps the original.
 *  - `method`: new method;
 *  - `uri`: new URI with placeholders; a part without `?` keeps the query,
 *    `?a=b` alone keeps the path; `{http.request.uri.query}` etc. allowed;
 *  - `strip_path_prefix`/`strip_path_suffix`: case-insensitive, on the decoded path;
 *  - `uri_substring: [{find, replace, limit}]`, `path_regexp: [{find, replace}]`.
 */
import type { HandlerConfig, HttpContext, HttpHandler, Next } from '../handler.ts';
import { requestPath } from '../context.ts';
import { goRegExp, goReplacement } from '../regexp.ts';

/** JSON config of `rewrite`. */
export interface RewriteConfig extends HandlerConfig {
  handler: 'rewrite';
  method?: string;
  uri?: string;
  strip_path_prefix?: string;
  strip_path_suffix?: string;
  uri_substring?: { find: string; replace: string; limit?: number }[];
  path_regexp?: { find: string; replace: string }[];
}

/** Encodes a decoded path back into URL form (only what must be escaped). */
function encodePath(p: string): string {
  return p.replace(/[%?#\s]/g, (ch) => encodeURIComponent(ch));
}

/** Sets the request path (decoded form) and optionally the query. */
export function setRequestPath(c: HttpContext, path: string): void {
  c.url.pathname = encodePath(path.startsWith('/') ? path : '/' + path);
}

export class Rewrite implements HttpHandler {
  /** Lifecycle: nothing to open, check, release. */
  provision(): void {}
  validate(): void {}
  cleanup(): void {}
  readonly config: RewriteConfig;
  #regexps: [RegExp, string][];

  constructor(config: RewriteConfig) {
    this.config = config;
    this.#regexps = (config.path_regexp ?? []).map((r) => [goRegExp(r.find, 'g'), goReplacement(r.replace)]);
  }

  serveHTTP(c: HttpContext, next: Next): Promise<void> {
    const cfg = this.config;
    if (!c.vars.has('http.orig_method')) c.vars.set('http.orig_method', c.req.method);
    if (cfg.method) c.req.method = c.replace(cfg.method, true).toUpperCase();
    if (cfg.uri !== undefined) this.#rewriteUri(c, c.replace(cfg.uri, true));
    if (cfg.strip_path_prefix) {
      const prefix = c.replace(cfg.strip_path_prefix, true);
      const p = requestPath(c);
      if (p.toLowerCase().startsWith(prefix.toLowerCase())) setRequestPath(c, p.slice(prefix.length));
    }
    if (cfg.strip_path_suffix) {
      const suffix = c.replace(cfg.strip_path_suffix, true);
      const p = requestPath(c);
      if (p.toLowerCase().endsWith(suffix.toLowerCase())) setRequestPath(c, p.slice(0, p.length - suffix.length));
    }
    for (const s of cfg.uri_substring ?? []) {
      const find = c.replace(s.find, true);
      const rep = c.replace(s.replace, true);
      let uri = c.url.pathname + c.url.search;
      if (!s.limit || s.limit <= 0) uri = uri.replaceAll(find, rep);
      else for (let i = 0; i < s.limit && uri.includes(find); i++) uri = uri.replace(find, rep);
      this.#rewriteUri(c, uri);
    }
    for (const [re, rep] of this.#regexps) setRequestPath(c, requestPath(c).replace(re, rep));
    return next();
  }

  #rewriteUri(c: HttpContext, uri: string): void {
    const q = uri.indexOf('?');
    const path = q < 0 ? uri : uri.slice(0, q);
    if (path) {
      const target = new URL(path.startsWith('/') ? path : '/' + path, 'http://localhost');
      c.url.pathname = target.pathname;
    }
    if (q >= 0) c.url.search = uri.slice(q + 1) ? '?' + uri.slice(q + 1) : '';
  }
}
