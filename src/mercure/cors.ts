/**
 * CORS as rs/cors v1.11 does it for the hub: credentials allowed, methods
 * GET/POST/HEAD (OPTIONS always passes the method check), request headers
 * authorization, cache-control, last-event-id (and origin), no exposed
 * headers, no max-age. Installed only when `cors_origins` is non-empty.
 * Preflights accept only the canonical forms browsers send: the method as
 * written (upper case), the header names lower case, sorted, unique.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OriginList } from './origins.ts';
import { headerValues } from '../http/request-headers.ts';

const METHODS = new Set(['GET', 'POST', 'HEAD']);
/** The allowed request headers, lower case and sorted (rs/cors keeps them as a sorted set). */
const HEADERS = ['authorization', 'cache-control', 'last-event-id', 'origin'];
/** OWS bytes tolerated around each element, and empty elements tolerated, in Access-Control-Request-Headers. */
const MAX_OWS = 1;
const MAX_EMPTY = 16;

/** Case-sensitive, as rs/cors v1.11 compares methods (the Fetch standard sends them upper case). */
function methodAllowed(m: string): boolean {
  return m === 'OPTIONS' || METHODS.has(m);
}

/**
 * rs/cors v1.11's check of an Access-Control-Request-Headers value: its
 * comma-separated names must be allowed headers, in lower case, sorted and
 * unique, as browsers send them; at most one space or tab around each, and at
 * most 16 empty elements.
 */
export function headersAllowed(value: string): boolean {
  let last = -1;
  let empty = 0;
  for (const element of value.split(',')) {
    let name = element;
    for (let i = 0; i < MAX_OWS && (name.startsWith(' ') || name.startsWith('\t')); i++) name = name.slice(1);
    for (let i = 0; i < MAX_OWS && (name.endsWith(' ') || name.endsWith('\t')); i++) name = name.slice(0, -1);
    if (/^[ \t]|[ \t]$/.test(name)) return false;
    if (name === '') {
      if (++empty > MAX_EMPTY) return false;
      continue;
    }
    const pos = HEADERS.indexOf(name);
    if (pos <= last) return false; // unknown (-1), out of order, or repeated
    last = pos;
  }
  return true;
}

/** Go's Header.Get: the first value (duplicates are not joined). */
function first(req: IncomingMessage, name: string): string | undefined {
  return headerValues(req, name)?.[0];
}

/** The hub's CORS policy. */
export class Cors {
  readonly #origins: OriginList;

  constructor(origins: readonly string[]) {
    this.#origins = new OriginList(origins, true);
  }

  /**
   * Applies CORS to one request. Returns true when the request was a preflight
   * and has been answered (204), false when the router should go on.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    // Two Origin headers: the first counts, as Go's Header.Get reads it.
    const origin = first(req, 'origin');
    const reqMethod = first(req, 'access-control-request-method');
    if (req.method === 'OPTIONS' && reqMethod !== undefined && reqMethod !== '') {
      res.setHeader('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      // Only the first Access-Control-Request-Headers line is read (and echoed), as rs/cors does.
      const reqHeaders = first(req, 'access-control-request-headers');
      if (origin !== undefined && origin !== '' && this.#origins.allows(origin) && methodAllowed(reqMethod)
        && (reqHeaders === undefined || headersAllowed(reqHeaders))) {
        res.setHeader('Access-Control-Allow-Origin', this.#origins.all ? '*' : origin);
        res.setHeader('Access-Control-Allow-Methods', reqMethod);
        if (reqHeaders !== undefined && reqHeaders !== '') res.setHeader('Access-Control-Allow-Headers', reqHeaders);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      }
      res.statusCode = 204;
      res.end();
      return true;
    }
    res.setHeader('Vary', 'Origin');
    if (origin !== undefined && origin !== '' && this.#origins.allows(origin) && methodAllowed(req.method ?? 'GET')) {
      res.setHeader('Access-Control-Allow-Origin', this.#origins.all ? '*' : origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    return false;
  }
}
