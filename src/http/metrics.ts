/**
 * Caddy's HTTP metrics (`caddy_http_*`), on when `apps.http.metrics` is set
 * (the `metrics` global option; a server's `metrics: {}` from older Caddy
 * JSON turns them on too). As in Caddy, each top-level route of a server is
 * instrumented once, labelled with the server's name and the module name of
 * the route's first handler (`subroute` for a Caddyfile site):
 *
 *   caddy_http_requests_in_flight        gauge      server, handler [, host]
 *   caddy_http_requests_total            counter    server, handler [, host]
 *   caddy_http_request_errors_total      counter    server, handler [, host]
 *   caddy_http_request_duration_seconds  histogram  server, handler, code, method [, host]
 *   caddy_http_request_size_bytes        histogram  same
 *   caddy_http_response_size_bytes       histogram  same
 *   caddy_http_response_duration_seconds histogram  same (time to the response head)
 *
 * `per_host` adds `host`: hosts named by the server's host matchers get their
 * own label, others `_other`, unless the server speaks TLS or
 * `observe_catchall_hosts` is set (Caddy's cardinality protection).
 * A handler that hands a stream over (a Mercure subscription) ends its
 * request, for these metrics, once the stream is set up.
 */
import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HttpError } from '../host/errors.ts';
import type { HttpContext } from './handler.ts';
import type { Chain } from './routes.ts';

/** `apps.http.metrics`. */
export interface HttpMetricsConfig { per_host?: boolean; observe_catchall_hosts?: boolean; otlp?: boolean }

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304]; // 256 × 4^n, n < 8

interface Collectors {
  inFlight: Gauge; requests: Counter; errors: Counter;
  duration: Histogram; requestSize: Histogram; responseSize: Histogram; ttfb: Histogram;
}

function collectors(registry: Registry, perHost: boolean): Collectors {
  const basic = perHost ? ['server', 'handler', 'host'] : ['server', 'handler'];
  const full = perHost ? ['server', 'handler', 'code', 'method', 'host'] : ['server', 'handler', 'code', 'method'];
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    inFlight: get('caddy_http_requests_in_flight', () => new Gauge({ name: 'caddy_http_requests_in_flight', help: 'Number of requests currently handled by this server.', labelNames: basic, registers })),
    errors: get('caddy_http_request_errors_total', () => new Counter({ name: 'caddy_http_request_errors_total', help: 'Number of requests resulting in middleware errors.', labelNames: basic, registers })),
    requests: get('caddy_http_requests_total', () => new Counter({ name: 'caddy_http_requests_total', help: 'Counter of HTTP(S) requests made.', labelNames: basic, registers })),
    duration: get('caddy_http_request_duration_seconds', () => new Histogram({ name: 'caddy_http_request_duration_seconds', help: 'Histogram of round-trip request durations.', labelNames: full, buckets: DURATION_BUCKETS, registers })),
    requestSize: get('caddy_http_request_size_bytes', () => new Histogram({ name: 'caddy_http_request_size_bytes', help: 'Total size of the request. Includes body', labelNames: full, buckets: SIZE_BUCKETS, registers })),
    responseSize: get('caddy_http_response_size_bytes', () => new Histogram({ name: 'caddy_http_response_size_bytes', help: 'Size of the returned response.', labelNames: full, buckets: SIZE_BUCKETS, registers })),
    ttfb: get('caddy_http_response_duration_seconds', () => new Histogram({ name: 'caddy_http_response_duration_seconds', help: 'Histogram of times to first byte in response bodies.', labelNames: full, buckets: DURATION_BUCKETS, registers })),
  };
}

const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
/** Caddy's label values: known methods upper-cased, others OTHER; status 0 (nothing written) counts as 200. */
export const sanitizeMethod = (m: string | undefined): string => (METHODS.has((m ?? '').toUpperCase()) ? (m ?? '').toUpperCase() : 'OTHER');
export const sanitizeCode = (s: number): string => (s === 0 ? '200' : String(s));

/** Approximate request size, as Caddy (and Prometheus' promhttp) count it. */
function requestSize(c: HttpContext): number {
  const req = c.req;
  let n = (req.url ?? '').length + (req.method ?? '').length + `HTTP/${req.httpVersion}`.length;
  for (let i = 0; i < req.rawHeaders.length; i++) n += req.rawHeaders[i]!.length;
  const host = req.headers.host ?? '';
  n += host.length;
  const len = Number(req.headers['content-length'] ?? 0);
  if (len > 0) n += len;
  return n;
}

/** Counts body bytes and notes when the head goes out. */
function watch(res: ServerResponse, start: number): { bytes: number; headAt: number | undefined } {
  const w = { bytes: 0, headAt: undefined as number | undefined };
  const count = (chunk: unknown) => {
    if (chunk && typeof chunk !== 'function') w.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength ?? 0;
  };
  const write = res.write;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    count(chunk);
    w.headAt ??= performance.now() - start;
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  const end = res.end;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    count(chunk);
    w.headAt ??= performance.now() - start;
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    w.headAt ??= performance.now() - start;
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  return w;
}

/** Metrics of one server: wraps its top-level routes. */
export class ServerMetrics {
  readonly #m: Collectors;
  readonly #server: string;
  readonly #perHost: boolean;
  readonly #allowed: Set<string>;
  readonly #catchAll: boolean;

  constructor(registry: Registry, config: HttpMetricsConfig, server: string, hosts: string[], tls: boolean) {
    this.#perHost = config.per_host === true;
    this.#m = collectors(registry, this.#perHost);
    this.#server = server;
    this.#allowed = new Set(hosts.map((h) => h.toLowerCase()));
    this.#catchAll = config.observe_catchall_hosts === true || tls;
  }

  #host(c: HttpContext): string {
    const h = (c.req.headers.host ?? c.req.headers[':authority'] as string | undefined ?? '').toLowerCase();
    return this.#allowed.has(h) || this.#allowed.has(h.replace(/:\d+$/, '')) || this.#catchAll ? h : '_other';
  }

  /** The route's chain, instrumented under `handler`. */
  instrument(handler: string, run: Chain): Chain {
    const m = this.#m;
    return async (c, next) => {
      const basic: Record<string, string> = { server: this.#server, handler };
      if (this.#perHost) basic.host = this.#host(c);
      const start = performance.now();
      const w = watch(c.res, start);
      m.inFlight.inc(basic);
      let status = 0;
      try {
        await run(c, next);
        status = c.res.headersSent ? c.res.statusCode : 0;
      } catch (e) {
        m.errors.inc(basic);
        status = e instanceof HttpError ? e.status : 500;
        throw e;
      } finally {
        m.inFlight.dec(basic);
        m.requests.inc(basic);
        const labels = { ...basic, code: sanitizeCode(status), method: sanitizeMethod(c.req.method) };
        const seconds = (performance.now() - start) / 1000;
        m.duration.observe(labels, seconds);
        m.ttfb.observe(labels, (w.headAt ?? performance.now() - start) / 1000);
        m.requestSize.observe(labels, requestSize(c));
        m.responseSize.observe(labels, w.bytes);
      }
    };
  }
}
