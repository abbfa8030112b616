/**
 * Mounts one HTTP handler on a real node:http server on port 0, the way the
 * server runs a route: a RequestContext per request, a terminal "ok" handler
 * after it, and a minimal error stage (HttpError → its status, no body), which
 * also reports the `{http.rate_limit.exceeded.name}` placeholder in a header.
 * Used by the rate_limit tests (test/http/rate-limit*.test.ts).
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { HttpError } from '../../src/host/errors.ts';
import type { HttpHandler } from '../../src/http/handler.ts';
import { RequestContext, parseTarget } from '../../src/http/context.ts';

export interface Mounted {
  url: string;
  server: Server;
  /** Sends a request; resolves with status, Retry-After, the refusing zone and the body. */
  request(path?: string, init?: { method?: string; headers?: Record<string, string> }): Promise<Answer>;
  close(): Promise<void>;
}

export interface Answer { status: number; retryAfter: string | null; zone: string | null; body: string }

export async function mount(handler: HttpHandler): Promise<Mounted> {
  const server = createServer((req, res) => {
    const c = new RequestContext(req, res, parseTarget(req.url ?? '/')!, false);
    handler.serveHTTP(c, async () => { res.end('ok'); }).catch((err: unknown) => {
      res.statusCode = err instanceof HttpError ? err.status : 500;
      const zone = c.placeholders?.get('http.rate_limit.exceeded.name');
      if (zone) res.setHeader('X-Zone', String(zone));
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    server,
    async request(path = '/', init = {}) {
      const r = await fetch(url + path, { method: init.method ?? 'GET', headers: init.headers ?? {} });
      return { status: r.status, retryAfter: r.headers.get('retry-after'), zone: r.headers.get('x-zone'), body: await r.text() };
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A settable clock in milliseconds, for RateLimitHandler's `now`. */
export class Clock {
  t: number;
  constructor(start = 1_700_000_000_000) { this.t = start; }
  readonly now = (): number => this.t;
  advance(ms: number): void { this.t += ms; }
}
