/**
 * Where the JWT comes from (first mechanism present wins; failures never
 * fall through): the `Authorization` header, the `authorization` query
 * parameter, then the auth cookie — which, on POST, also needs an allowed
 * Origin (or Referer) as a CSRF guard.
 */
import type { IncomingMessage } from 'node:http';
import type { OriginList } from './origins.ts';
import { headerValues } from '../http/request-headers.ts';

/** No token, a token string, or an extraction error (→ 401). */
export type Extracted = { kind: 'none' } | { kind: 'token'; token: string } | { kind: 'error'; reason: string };

const NONE: Extracted = { kind: 'none' };

/** Reads the first cookie named name, with Go's cookie-value rules (quotes stripped, invalid values skipped). */
export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (raw === undefined) return undefined;
  for (const line of Array.isArray(raw) ? raw : [raw]) {
    for (const part of line.split(';')) {
      const p = part.trim();
      if (p === '') continue;
      const eq = p.indexOf('=');
      const k = eq < 0 ? p : p.slice(0, eq);
      if (k !== name) continue;
      let v = eq < 0 ? '' : p.slice(eq + 1);
      if (v.length > 1 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      if (!/^[\x20\x21\x23-\x3a\x3c-\x5b\x5d-\x7e]*$/.test(v)) continue;
      return v;
    }
  }
  return undefined;
}

/** The request's origin for the CSRF check: Origin, else scheme://host of Referer. */
function requestOrigin(req: IncomingMessage): string | undefined {
  const origin = headerValues(req, 'origin')?.[0]; // the first of several, as Go's Header.Get
  if (origin !== undefined && origin !== '') return origin;
  const referer = req.headers.referer;
  if (referer === undefined || referer === '') return undefined;
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?/.exec(referer);
  if (/[\x00-\x1f\x7f ]/.test(referer) || !m) return undefined;
  return `${(m[1] ?? '').toLowerCase()}://${m[2] ?? ''}`;
}

/**
 * Extracts the token. `authQuery` holds the values of the `authorization`
 * query parameter (undefined when absent).
 */
export function extractToken(
  req: IncomingMessage,
  authQuery: string[] | undefined,
  cookieName: string,
  publishOrigins: OriginList | undefined,
): Extracted {
  const header = headerValues(req, 'authorization');
  if (header !== undefined) {
    if (header.length !== 1) return { kind: 'error', reason: 'multiple Authorization headers' };
    const h = header[0]!;
    if (h.length < 48 || !h.startsWith('Bearer ')) return { kind: 'error', reason: 'invalid "Authorization" HTTP header' };
    return { kind: 'token', token: h.slice(7) };
  }
  if (authQuery !== undefined) {
    if (authQuery.length !== 1 || authQuery[0]!.length < 41) return { kind: 'error', reason: 'invalid "authorization" Query parameter' };
    return { kind: 'token', token: authQuery[0]! };
  }
  const cookie = readCookie(req, cookieName);
  if (cookie === undefined) return NONE;
  if (req.method !== 'POST') return { kind: 'token', token: cookie };
  const origin = requestOrigin(req);
  if (origin === undefined) return { kind: 'error', reason: 'an "Origin" or a "Referer" HTTP header must be present to use the cookie-based authorization mechanism' };
  if (!publishOrigins?.allows(origin)) return { kind: 'error', reason: `"${origin}": origin not allowed to post updates` };
  return { kind: 'token', token: cookie };
}
