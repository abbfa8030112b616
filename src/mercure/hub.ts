/**
 * The `http.handlers.mercure` module: a Mercure hub mounted in a route.
 * Provision builds everything once (keys, verifiers, CORS, selector cache,
 * transport, metrics); serveHTTP only routes. Requests whose path does not
 * start with `/.well-known/mercure` go to the next handler.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../host/errors.ts';
import { toMs } from '../host/duration.ts';
import { spanOf } from '../host/span.ts';
import { CONFIG_SERVICE } from '../host/services.ts';
import type { CleanerUpper, ModuleContext, Provisioner, Validator } from '../host/module.ts';
import type { HttpContext, HttpHandler, Next } from '../http/handler.ts';
import { TopicSelectorStore, defaultSelectorStore } from '../topics/topic-selector.ts';
import type { Transport, TransportHealth } from '../transports/core/contract.ts';
import { CONFIG_KEYS, DEFAULTS, replaceEnv, type MercureConfig } from './config.ts';
import { Cors } from './cors.ts';
import { parseQuery } from './go-json.ts';
import { goTarget } from './go-url.ts';
import { registerHub, unregisterHub, type HealthCheckable } from './health.ts';
import { contentSecurityPolicy, methodNotAllowed, notFound, setSecurityHeaders, statusError } from './http-util.ts';
import { TokenVerifier } from './jwt.ts';
import { StaticKeySource, jwksSource, type KeySource } from './keys.ts';
import { hubMetrics } from './metrics.ts';
import { OriginList, validateOrigins } from './origins.ts';
import { handlePublish } from './publish.ts';
import type { HubRequest, HubRuntime } from './runtime.ts';
import { DEFAULT_MAX_BUFFERED_BYTES, MAX_QUEUED_UPDATES, type SseSubscriber } from './subscriber.ts';
import { handleSubscribe } from './subscribe.ts';
import { handleSubscriptionsApi } from './subscriptions-api.ts';
import { loadTransport } from './transport-loader.ts';
import { DEMO_PREFIX, UI_PREFIX, UiFiles, serveDemo } from './ui.ts';

export const HUB_PATH = '/.well-known/mercure';
const API_ROUTE = /^\/\.well-known\/mercure\/subscriptions(?:\/([^/]+)(?:\/([^/]+))?)?$/;

/** The hub module. */
export class MercureHub implements HttpHandler, Provisioner, Validator, CleanerUpper, HealthCheckable {
  /**
   * Go's `AllowNoPublish` for embedders: lets a hub run without a publisher
   * key (POST then answers 405). Not reachable from a Caddyfile, as in the reference.
   */
  static allowNoPublish = false;

  /**
   * The same, decided per config: a layer above (the PHP front, as FrankenPHP
   * does) may allow a hub without a publisher key in the configs it serves.
   */
  static allowNoPublishIn: ((config: unknown) => boolean) | undefined;

  readonly config: MercureConfig;
  #rt: HubRuntime | undefined;
  #csp = contentSecurityPolicy(false);
  #cors: Cors | undefined;
  #ui: UiFiles | undefined;
  #demo = false;
  #registry: Map<string, unknown> | undefined;
  #verifiers: TokenVerifier[] = [];

  constructor(config: MercureConfig) {
    this.config = config;
  }

  get name(): string { return this.config.name || DEFAULTS.name; }

  /** The shared runtime (tests and the admin API read it). */
  get runtime(): HubRuntime {
    if (!this.#rt) throw new Error('mercure hub not provisioned');
    return this.#rt;
  }

  /** Bytes held by the hub's streams (response buffers + queues). */
  bufferedBytes(): number {
    let n = 0;
    for (const s of this.#rt?.streams ?? []) n += s.bufferedBytes;
    return n;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    const c = this.config;
    const fail = (msg: string, cause?: unknown) => new ConfigError('ERR_CFG_VALUE', spanOf(c), msg, { cause });
    for (const k of Object.keys(c)) if (!CONFIG_KEYS.has(k)) throw new ConfigError('ERR_CFG_JSON', undefined, `http.handlers.mercure: unknown field "${k}"`);
    if (c.protocol_version_compatibility !== undefined && c.protocol_version_compatibility !== 7) {
      throw fail(`compatibility mode only supports protocol version 7`);
    }
    if ((c.subscriber_list_cache_size ?? 0) < 0) throw fail('subscriber_list_cache_size must be >= 0');
    try {
      validateOrigins(c.publish_origins ?? [], 'publish origin');
      validateOrigins(c.cors_origins ?? [], 'CORS origin');
    } catch (err) { throw fail((err as Error).message); }

    const publisher = this.#keySource(c.publisher_jwks_url, c.publisher_jwt, fail);
    const subscriber = this.#keySource(c.subscriber_jwks_url, c.subscriber_jwt, fail);
    const noPublishAllowed = MercureHub.allowNoPublish || MercureHub.allowNoPublishIn?.(ctx.app.registry.get(CONFIG_SERVICE)) === true;
    if (!publisher && !noPublishAllowed) throw fail('a JWT key or the URL of a JWK Set for publishers must be provided');
    if (!subscriber && !c.anonymous) throw fail('a JWT key or the URL of a JWK Set for subscribers must be provided, or anonymous mode enabled');
    const publisherVerifier = publisher ? new TokenVerifier(publisher) : undefined;
    const subscriberVerifier = subscriber ? new TokenVerifier(subscriber) : undefined;
    this.#verifiers = [publisherVerifier, subscriberVerifier].filter((v): v is TokenVerifier => v !== undefined);

    const cacheSize = selectorCacheSize(c.cache);
    const selectors = cacheSize !== DEFAULTS.selectorCacheSize ? new TopicSelectorStore(cacheSize) : defaultSelectorStore();
    let transport: Transport;
    try {
      transport = await loadTransport(ctx, c);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw fail(`transport: ${(err as Error).message}`, err);
    }
    transport.useSelectorStore(selectors);

    const ms = (v: unknown, d: number) => {
      try { return toMs(v, d); } catch (err) { throw fail((err as Error).message); }
    };
    this.#rt = {
      transport,
      selectors,
      subscriberVerifier,
      publisherVerifier,
      anonymous: c.anonymous === true,
      subscriptions: c.subscriptions === true,
      compat7: c.protocol_version_compatibility === 7,
      cookieName: c.cookie_name || DEFAULTS.cookieName,
      publishOrigins: c.publish_origins?.length ? new OriginList(c.publish_origins, false) : undefined,
      stream: {
        heartbeatMs: ms(c.heartbeat, DEFAULTS.heartbeatMs),
        writeTimeoutMs: ms(c.write_timeout, DEFAULTS.writeTimeoutMs),
        dispatchTimeoutMs: ms(c.dispatch_timeout, DEFAULTS.dispatchTimeoutMs),
        flushIntervalMs: ms(c.flush_interval, DEFAULTS.flushIntervalMs),
        maxQueuedUpdates: MAX_QUEUED_UPDATES,
        maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
      },
      metrics: hubMetrics(ctx.app.metrics),
      log: ctx.log as Logger,
      streams: new Set<SseSubscriber>(),
    };
    if (c.cors_origins?.length) this.#cors = new Cors(c.cors_origins);
    const ui = c.ui === true || c.demo === true;
    this.#csp = contentSecurityPolicy(ui);
    if (ui) this.#ui = new UiFiles();
    this.#demo = c.demo === true;
    this.#registry = ctx.app.registry;
    registerHub(this.#registry, this, (detail) => ctx.log.error(detail));
  }

  #keySource(jwksUrl: string | undefined, jwt: { key: string; alg?: string } | undefined, fail: (m: string, c?: unknown) => Error): KeySource | undefined {
    try {
      if (jwksUrl) return jwksSource(replaceEnv(jwksUrl));
      const key = jwt ? replaceEnv(jwt.key ?? '') : '';
      if (key === '') return undefined;
      return new StaticKeySource(key, replaceEnv(jwt?.alg ?? '') || DEFAULTS.alg);
    } catch (err) {
      throw fail((err as Error).message, err);
    }
  }

  validate(): void {
    const s = this.#rt?.stream;
    if (s && (s.heartbeatMs < 0 || s.writeTimeoutMs < 0 || s.dispatchTimeoutMs < 0 || (s.flushIntervalMs ?? 0) < 0)) {
      throw new ConfigError('ERR_CFG_VALUE', undefined, 'mercure durations must not be negative');
    }
  }

  /**
   * The process is stopping for good (not reloading): end every stream now,
   * cleanly (queued events flushed), so EventSource clients reconnect at once,
   * to another node in a cluster, with Last-Event-ID. The reference hub leaves
   * them to their write_timeout, which holds the process for the grace period.
   */
  onShutdown(): void {
    for (const s of this.#rt?.streams ?? []) s.close('hub stopped');
  }

  async cleanup(): Promise<void> {
    if (this.#registry) unregisterHub(this.#registry, this);
    for (const v of this.#verifiers) v.close();
    const rt = this.#rt;
    // As the reference: with write_timeout 0 streams end now; otherwise they end on their own timers.
    if (rt && rt.stream.writeTimeoutMs === 0) for (const s of rt.streams) s.close('hub stopped');
  }

  /** Transport health for the admin API. */
  async health(check: 'live' | 'ready' = 'ready'): Promise<TransportHealth> {
    return this.#rt ? this.#rt.transport.health(check) : { ready: false, live: false, error: 'not provisioned' };
  }

  async serveHTTP(c: HttpContext, next: Next): Promise<void> {
    const t = rawTarget(c);
    // As the reference: the decoded path, dot segments kept, decides; its routes then match the escaped path.
    if (t.decodedPath === undefined || !t.decodedPath.startsWith(HUB_PATH)) return next();
    const r: HubRequest = { path: t.path, rawQuery: t.rawQuery, requestUri: t.requestUri, query: parseQuery(t.rawQuery).values };
    const rt = this.runtime;
    const { req, res } = c;
    setSecurityHeaders(res, this.#csp);
    if (this.#cors?.handle(req, res)) return;
    const method = req.method ?? 'GET';
    const getLike = method === 'GET' || method === 'HEAD';
    let mismatch = false;
    try {
      if (this.#demo && r.path.startsWith(DEMO_PREFIX)) {
        if (getLike) return serveDemo(res, r.path, r.requestUri, r.query, rt.cookieName, c.secure);
        mismatch = true;
      }
      if (this.#ui && r.path.startsWith(UI_PREFIX)) return this.#ui.serve(res, r.path, method);
      if (rt.subscriptions) {
        const m = API_ROUTE.exec(r.path);
        if (m) {
          if (method === 'GET') return await handleSubscriptionsApi(rt, c, r, m[1], m[2]);
          mismatch = true;
        }
      }
      if (r.path === HUB_PATH) {
        const canSubscribe = rt.subscriberVerifier !== undefined || rt.anonymous;
        const canPublish = rt.publisherVerifier !== undefined;
        if (canSubscribe && getLike) return await handleSubscribe(rt, c, r);
        if (canPublish && method === 'POST') return await handlePublish(rt, c, r);
        if (canSubscribe || canPublish) mismatch = true;
      }
    } catch (err) {
      rt.log.error({ err }, 'mercure handler failed');
      if (!res.headersSent) return statusError(res, 500);
      res.destroy();
      return;
    }
    return mismatch ? methodNotAllowed(res) : notFound(res);
  }
}

/**
 * Entries of the topic-selector match cache: `size` when > 0; else, from the
 * sharded form, max_entries_per_shard × shard_count (256 shards by default;
 * -1 entries per shard disables the cache, as in the reference); else the default.
 */
export function selectorCacheSize(cache: MercureConfig['cache']): number {
  if (cache?.size !== undefined && cache.size > 0) return cache.size;
  const perShard = cache?.max_entries_per_shard;
  if (perShard !== undefined && perShard < 0) return 0;
  if (perShard !== undefined && perShard > 0) return perShard * (cache?.shard_count && cache.shard_count > 0 ? cache.shard_count : 256);
  return DEFAULTS.selectorCacheSize;
}

/**
 * The request target as the reference hub sees it (go-url.ts): the raw
 * request line's target, unless an earlier handler rewrote the URL (then the
 * rewritten one). `decodedPath` decides whether the hub handles the request;
 * `path` (Go's EscapedPath) is what its routes match.
 */
export function rawTarget(c: HttpContext): Omit<HubRequest, 'query'> & { decodedPath: string | undefined } {
  const uri = c.originalUri;
  let target = c.req.url ?? uri;
  if (!uri.startsWith('/')) target = c.url.pathname + c.url.search;
  else {
    const q = uri.indexOf('?');
    const path = q < 0 ? uri : uri.slice(0, q);
    const rawQuery = q < 0 ? '' : uri.slice(q + 1);
    if (path !== c.url.pathname || rawQuery !== c.url.search.slice(1)) {
      const parsed = new URL(uri, 'http://h');
      if (parsed.pathname !== c.url.pathname || parsed.search !== c.url.search) target = c.url.pathname + c.url.search;
    }
  }
  const t = goTarget(target);
  return { path: t.escapedPath, decodedPath: t.path, rawQuery: t.rawQuery, requestUri: t.requestUri };
}
