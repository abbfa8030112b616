/**
 * CORS as rs/cors v1.11 does it for the hub: credentials allowed, methods
 * GET/POST/HEAD (OPTIONS always passes the method check), request headers
 * authorization, cache-control, last-event-id (and origin), no exposed
 * headers, no max-age. Installed only when `cors_origins` is non-empty.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OriginList } from './origins.ts';

const METHODS = new Set(['GET', 'POST', 'HEAD']);
const HEADERS = new Set(['authorization', 'cache-control', 'last-event-id', 'origin']);

function methodAllowed(m: string): boolean {
  const u = m.toUpperCase();
  return u === 'OPTIONS' || METHODS.has(u);
}

function headersAllowed(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  for (const h of raw.split(',')) {
    const name = h.trim().toLowerCase();
    if (name !== '' && !HEADERS.has(name)) return false;
  }
  return true;
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
    const origin = req.headers.origin;
    const reqMethod = req.headers['access-control-request-method'];
    if (req.method === 'OPTIONS' && typeof reqMethod === 'string' && reqMethod !== '') {
      res.setHeader('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      const reqHeaders = req.headers['access-control-request-headers'];
      if (origin !== undefined && origin !== '' && this.#origins.allows(origin) && methodAllowed(reqMethod) && headersAllowed(reqHeaders)) {
        res.setHeader('Access-Control-Allow-Origin', this.#origins.all ? '*' : origin);
        res.setHeader('Access-Control-Allow-Methods', reqMethod.toUpperCase());
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
