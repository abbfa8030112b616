/**
 * The per-request context: the one object handlers share for a request.
 * Built once per request by the server; everything else is computed lazily.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpContext } from './handler.ts';
import type { LiveStream } from './response.ts';
import { decodePath, replace } from './replacer.ts';

const BASE = 'http://localhost';

/** Parses a request target (origin-form, absolute-form or `*`) into a URL; undefined when malformed. */
export function parseTarget(target: string): URL | undefined {
  try {
    // origin-form is appended (not resolved) so `//x` stays a path, not a host
    if (target.startsWith('/')) return new URL(BASE + target);
    return target.includes('://') ? new URL(target) : new URL(BASE + '/' + target);
  } catch { return undefined; }
}

export class RequestContext implements HttpContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  originalUri: string;
  secure: boolean;
  remoteAddr: string;
  remotePort: number;
  vars = new Map<string, unknown>();
  error?: { status: number; message: string };
  placeholders?: Map<string, unknown>;
  upgrade?: { socket: Duplex; head: Buffer; taken: boolean };
  groups?: Set<string>;
  streams?: Set<LiveStream>;
  /** performance.now() when the request arrived. */
  readonly start: number;
  #pathRaw = '';
  #path = '';

  constructor(req: IncomingMessage, res: ServerResponse, url: URL, secure: boolean) {
    this.req = req;
    this.res = res;
    this.url = url;
    this.originalUri = url.pathname + url.search;
    this.secure = secure;
    const sock = req.socket;
    this.remoteAddr = stripV4Mapped(sock?.remoteAddress ?? '');
    this.remotePort = sock?.remotePort ?? 0;
    this.start = performance.now();
    this.vars.set('http.request.start', this.start);
  }

  /** The unescaped request path (cached per distinct url.pathname). */
  get path(): string {
    const raw = this.url.pathname;
    if (raw !== this.#pathRaw) { this.#pathRaw = raw; this.#path = decodePath(raw); }
    return this.#path;
  }

  replace(s: string, emptyUnknown = false): string {
    return replace(this, s, emptyUnknown ? 'all' : 'known');
  }
}

/** `::ffff:1.2.3.4` → `1.2.3.4`. */
export function stripV4Mapped(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** The decoded request path of any HttpContext. */
export function requestPath(c: HttpContext): string {
  return c instanceof RequestContext ? c.path : decodePath(c.url.pathname);
}
