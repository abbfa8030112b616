/**
 * Response helpers reproducing what Go's net/http and the hub's middlewares
 * put on the wire: `http.Error` bodies, the security headers of
 * unrolled/secure, and gorilla/mux's 404/405.
 */
import type { ServerResponse } from 'node:http';

/** Go's http.Error: text/plain, nosniff, `msg\n`. */
export function httpError(res: ServerResponse, status: number, msg: string): void {
  if (res.headersSent) { res.destroy(); return; }
  const body = msg + '\n';
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.statusCode = status;
  res.end(body);
}

/** Go's http.StatusText for the codes the hub answers with. */
export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** http.Error(w, http.StatusText(code), code). */
export function statusError(res: ServerResponse, status: number): void {
  httpError(res, status, STATUS_TEXT[status] ?? String(status));
}

/** gorilla/mux NotFoundHandler (http.NotFound). */
export function notFound(res: ServerResponse): void {
  httpError(res, 404, '404 page not found');
}

/** gorilla/mux method mismatch: 405, empty body, no Allow header. */
export function methodNotAllowed(res: ServerResponse): void {
  res.statusCode = 405;
  res.end();
}

/** The CSP of unrolled/secure as the hub configures it. */
export function contentSecurityPolicy(ui: boolean): string {
  return ui ? "default-src 'self' mercure.rocks cdn.jsdelivr.net" : "default-src 'self'";
}

/** Sets the security headers on every hub response. Header names use Go's canonical casing. */
export function setSecurityHeaders(res: ServerResponse, csp: string): void {
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Xss-Protection', '1; mode=block');
  res.setHeader('Content-Security-Policy', csp);
}

const HTML_SIGS = ['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--'];

/**
 * Go's http.DetectContentType for the bodies the hub writes without a
 * Content-Type (publish IDs, demo bodies): HTML/XML/PDF/PostScript
 * signatures, UTF-8 BOM, then text vs binary. Image/audio signatures are not
 * reproduced (such bodies come out as application/octet-stream).
 */
export function sniffContentType(body: string): string {
  const head = body.slice(0, 512);
  const trimmed = head.replace(/^[\t\n\x0c\r ]+/, '');
  const upper = trimmed.slice(0, 16).toUpperCase();
  for (const sig of HTML_SIGS) {
    if (upper.startsWith(sig)) {
      const next = trimmed.charAt(sig.length);
      if (next === ' ' || next === '>') return 'text/html; charset=utf-8';
    }
  }
  if (trimmed.startsWith('<?xml')) return 'text/xml; charset=utf-8';
  if (head.startsWith('%PDF-')) return 'application/pdf';
  if (head.startsWith('%!PS-Adobe-')) return 'application/postscript';
  if (head.startsWith('\ufeff')) return 'text/plain; charset=utf-8';
  return /[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]/.test(head) ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}
