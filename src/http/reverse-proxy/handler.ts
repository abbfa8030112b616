/**
 * `http.handlers.reverse_proxy`: picks an available upstream (lb policy,
 * active + passive health, max_requests), rewrites headers (X-Forwarded-*,
 * header_up), sends the request through the transport, and streams the
 * answer back chunk by chunk with back-pressure, flushing at once for
 * `text/event-stream`, unknown lengths and `flush_interval -1` (never
 * buffering a stream). WebSocket upgrades are tunnelled. Errors: no upstream
 * available → 503, dial/proxy failure → 502, timeout → 504; a client that
 * went away is logged (499) and not retried.
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { ModuleContext } from '../../host/module.ts';
import { HttpError } from '../../host/errors.ts';
import { toMs } from '../../host/duration.ts';
import type { HandlerConfig, HttpContext, HttpHandler, Next } from '../handler.ts';
import { HeaderOps, type HeaderOpsConfig, objectTarget } from '../header-ops.ts';
import { type IpRange, inRanges, parseRanges } from '../ip.ts';
import { hostPort, setPlaceholder } from '../replacer.ts';
import { flushBody, flushHeaders, HOP_BY_HOP, isHttp2 } from '../response.ts';
import { type ActiveHealthConfig, ActiveHealthChecker } from './health.ts';
import { makeSelector, type SelectionConfig, type Selector } from './selection.ts';
import { isDialError, type ProxyRequest, type ProxyResponse, type ProxyTransport, proxyErrorStatus } from './transport.ts';
import { acquireUpstreams, expandDial, releaseUpstreams, Upstream, type UpstreamConfig } from './upstreams.ts';
import { tunnel } from './websocket.ts';

/** JSON config of `reverse_proxy` (Caddy's shape). */
export interface ReverseProxyConfig extends HandlerConfig {
  handler: 'reverse_proxy';
  upstreams?: UpstreamConfig[];
  transport?: { protocol: string; [k: string]: unknown };
  load_balancing?: { selection_policy?: SelectionConfig; retries?: number; try_duration?: string | number; try_interval?: string | number };
  health_checks?: {
    active?: ActiveHealthConfig;
    passive?: { fail_duration?: string | number; max_fails?: number; unhealthy_status?: number[]; unhealthy_latency?: string | number; unhealthy_request_count?: number };
  };
  headers?: { request?: HeaderOpsConfig; response?: HeaderOpsConfig };
  /** -1 (or any negative) flushes after every write. */
  flush_interval?: string | number;
  trusted_proxies?: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class ReverseProxy implements HttpHandler {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: ReverseProxyConfig;
  #ctx: ModuleContext | undefined;
  #transport: ProxyTransport | undefined;
  #static: Upstream[] = [];
  #dynamic: string[] = [];
  #select: Selector | undefined;
  #health: ActiveHealthChecker | undefined;
  #up: HeaderOps | undefined;
  #down: HeaderOps | undefined;
  #trusted: IpRange[] = [];
  #flushAlways: boolean;
  #failMs: number;
  #maxFails: number;
  #unhealthyStatus: number[];
  #unhealthyLatency: number;
  #unhealthyCount: number;
  #maxRequests = new Map<string, number>();

  constructor(config: ReverseProxyConfig) {
    this.config = config;
    this.#flushAlways = toMs(config.flush_interval, 0) < 0;
    const p = config.health_checks?.passive;
    this.#failMs = toMs(p?.fail_duration, 0);
    this.#maxFails = p?.max_fails ?? 1;
    this.#unhealthyStatus = p?.unhealthy_status ?? [];
    this.#unhealthyLatency = toMs(p?.unhealthy_latency, 0);
    this.#unhealthyCount = p?.unhealthy_request_count ?? 0;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    this.#ctx = ctx;
    const t = this.config.transport ?? { protocol: 'http' };
    const { protocol, ...rest } = t;
    this.#transport = await ctx.load<ProxyTransport>(`http.reverse_proxy.transport.${protocol}`, rest);
    const dials: string[] = [];
    for (const u of this.config.upstreams ?? []) {
      if (u.dial.includes('{')) { this.#dynamic.push(u.dial); continue; }
      for (const d of expandDial(u.dial)) { dials.push(d); if (u.max_requests) this.#maxRequests.set(d, u.max_requests); }
    }
    this.#static = await acquireUpstreams(ctx, dials);
    this.#select = makeSelector(this.config.load_balancing?.selection_policy, this.#static);
    if (this.config.headers?.request) this.#up = new HeaderOps(this.config.headers.request);
    if (this.config.headers?.response) this.#down = new HeaderOps(this.config.headers.response);
    this.#trusted = parseRanges(this.config.trusted_proxies ?? []);
    if (this.config.health_checks?.active && this.#static.length) {
      this.#health = new ActiveHealthChecker(this.config.health_checks.active, this.#static, this.#transport.tls === true, ctx.log);
      this.#health.start();
    }
  }

  async cleanup(): Promise<void> {
    this.#health?.stop();
    if (this.#ctx) await releaseUpstreams(this.#ctx, this.#static);
    this.#static = [];
  }

  #available(u: Upstream): boolean {
    if (!u.activeHealthy) return false;
    if (this.#failMs > 0 && u.fails >= this.#maxFails) return false;
    if (this.#unhealthyCount > 0 && u.numRequests >= this.#unhealthyCount) return false;
    const max = this.#maxRequests.get(u.dial);
    return !max || u.numRequests < max;
  }

  #candidates(c: HttpContext): Upstream[] {
    const dyn = this.#dynamic.map((d) => new Upstream(c.replace(d, true)));
    return [...this.#static, ...dyn].filter((u) => this.#available(u));
  }

  async serveHTTP(c: HttpContext, _next: Next): Promise<void> {
    const lb = this.config.load_balancing;
    const retries = lb?.retries ?? 0;
    const tryMs = toMs(lb?.try_duration, 0);
    const interval = toMs(lb?.try_interval, tryMs > 0 ? 250 : 0);
    const deadline = performance.now() + tryMs;
    const hasBody = requestHasBody(c);
    for (let attempt = 0; ; attempt++) {
      const ups = this.#candidates(c);
      const u = ups.length ? this.#select!(ups, c) : undefined;
      const canRetry = () => attempt < retries || performance.now() + interval < deadline;
      if (!u) {
        if (canRetry()) { if (interval) await sleep(interval); continue; }
        throw new HttpError(503, undefined, { cause: new Error('no upstreams available') });
      }
      try {
        await this.#proxy(c, u);
        return;
      } catch (err) {
        if (err instanceof HttpError) throw err;
        if (c.req.destroyed && !c.req.complete && !c.res.headersSent) { setPlaceholder(c, 'http.reverse_proxy.status_code', 499); return; }
        this.#fail(u);
        // Dial errors are always safe to retry; a GET that failed after connecting is retried too (Caddy's default retry match).
        const retryable = isDialError(err) || (c.req.method === 'GET' && !hasBody);
        if (retryable && !c.res.headersSent && canRetry()) { if (interval) await sleep(interval); continue; }
        if (c.res.headersSent) { c.res.destroy(); return; }
        throw new HttpError(proxyErrorStatus(err), undefined, { cause: err });
      }
    }
  }

  #fail(u: Upstream): void {
    if (this.#failMs > 0) u.countFail(this.#failMs);
  }

  #headers(c: HttpContext, u: Upstream): Record<string, string | string[]> {
    const src = c.req.headers;
    const out: Record<string, string | string[]> = {};
    const connTokens = String(src.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean);
    for (const [k, v] of Object.entries(src)) {
      if (v === undefined || k.startsWith(':') || HOP_BY_HOP.has(k) || k === 'expect' || connTokens.includes(k)) continue;
      out[k] = v;
    }
    if (src.te && String(src.te).includes('trailers')) out.te = 'trailers';
    const hp = hostPort(c);
    out.host = hp;
    const trusted = this.#trusted.length > 0 && inRanges(c.remoteAddr, this.#trusted);
    const prior = src['x-forwarded-for'];
    out['x-forwarded-for'] = trusted && prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${c.remoteAddr}` : c.remoteAddr;
    if (!trusted || !src['x-forwarded-proto']) out['x-forwarded-proto'] = c.secure ? 'https' : 'http';
    if (!trusted || !src['x-forwarded-host']) out['x-forwarded-host'] = hp;
    setPlaceholder(c, 'http.reverse_proxy.upstream.address', u.dial);
    setPlaceholder(c, 'http.reverse_proxy.upstream.hostport', u.hostport);
    setPlaceholder(c, 'http.reverse_proxy.upstream.host', u.hostport.replace(/:\d+$/, ''));
    setPlaceholder(c, 'http.reverse_proxy.upstream.port', /:(\d+)$/.exec(u.hostport)?.[1] ?? '');
    this.#up?.apply(objectTarget(out as Record<string, string | string[] | undefined>), c);
    return out;
  }

  async #proxy(c: HttpContext, u: Upstream): Promise<void> {
    const ac = new AbortController();
    const onClose = () => { if (!c.res.writableFinished) ac.abort(); };
    c.res.once('close', onClose);
    const headers = this.#headers(c, u);
    const req: ProxyRequest = {
      method: c.req.method ?? 'GET',
      path: c.url.pathname + c.url.search,
      headers,
      body: requestHasBody(c) ? (c.req as unknown as Readable) : null,
      signal: ac.signal,
    };
    u.numRequests++;
    const started = performance.now();
    try {
      if (c.upgrade && c.req.headers.upgrade && this.#transport!.upgrade) {
        headers.connection = 'Upgrade';
        headers.upgrade = String(c.req.headers.upgrade);
        const r = await this.#transport!.upgrade(c, u, req);
        if (r.kind === 'tunnel') { tunnel(c, r); return; }
        await this.#respond(c, u, r.response, started);
        return;
      }
      const res = await this.#transport!.roundTrip(c, u, req);
      await this.#respond(c, u, res, started);
    } finally {
      u.numRequests--;
      c.res.off('close', onClose);
    }
  }

  async #respond(c: HttpContext, u: Upstream, up: ProxyResponse, started: number): Promise<void> {
    const res = c.res;
    setPlaceholder(c, 'http.reverse_proxy.status_code', up.status);
    setPlaceholder(c, 'http.reverse_proxy.duration', `${((performance.now() - started) / 1000).toFixed(6)}s`);
    if (this.#unhealthyStatus.includes(up.status) || (this.#unhealthyLatency > 0 && performance.now() - started > this.#unhealthyLatency)) this.#fail(u);
    const connTokens = String(up.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim());
    const h2 = isHttp2(res);
    for (const [k, v] of Object.entries(up.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k) || connTokens.includes(k) || (h2 && k.startsWith(':'))) continue;
      res.setHeader(k, v);
    }
    if (this.#down) this.#down.apply({
      get: (n) => { const v = res.getHeader(n); return v === undefined ? undefined : Array.isArray(v) ? v : [String(v)]; },
      set: (n, v) => res.setHeader(n, v),
      remove: (n) => res.removeHeader(n),
      names: () => res.getHeaderNames(),
    }, c);
    res.statusCode = up.status;
    const type = String(res.getHeader('content-type') ?? '');
    const stream = this.#flushAlways || type.toLowerCase().startsWith('text/event-stream') || !res.hasHeader('content-length');
    if (stream) flushHeaders(res);
    for await (const chunk of up.body) {
      if (res.destroyed) break;
      if (!res.write(chunk as Buffer)) {
        await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
      if (stream) flushBody(res);
    }
    if (!res.destroyed) res.end();
  }
}

function requestHasBody(c: HttpContext): boolean {
  const h = c.req.headers;
  if (h['content-length'] !== undefined) return h['content-length'] !== '0';
  if (h['transfer-encoding'] !== undefined) return true;
  return c.req.httpVersionMajor === 2 && !['GET', 'HEAD', 'OPTIONS', 'DELETE'].includes(c.req.method ?? 'GET') && !c.req.readableEnded;
}
