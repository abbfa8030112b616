/**
 * The `http` app (module `apps.http`): servers built from
 * `apps.http.servers.<name>`, each listening on its addresses.
 * Provision compiles every route once and takes (unbound) listeners from the
 * usage pool; start binds them and swaps this config's servers in; stop lets
 * in-flight requests finish, then releases the listeners, so a reload that
 * keeps an address keeps its socket (see listener.ts).
 */
import type { App, ModuleContext } from '../host/module.ts';
import { ConfigError } from '../host/errors.ts';
import { AccessLog, type AccessLogConfig } from './access-log.ts';
import type { RouteConfig } from './handler.ts';
import { parseRanges } from './ip.ts';
import { withAutoRedirects, type AutoHttpsConfig } from './auto-https.ts';
import { acquireListener, type Listener, listenerKey, parseListenAddress } from './listener.ts';
import { compileRoutes } from './routes.ts';
import { type HttpMetricsConfig, ServerMetrics } from './metrics.ts';
import { ServerRuntime } from './server.ts';
import { TlsApp } from './tls/app.ts';

/** A TLS connection policy (Caddy's shape; only the fields below are used). */
export interface TlsConnectionPolicy {
  match?: { sni?: string[] };
  protocol_min?: 'tls1.2' | 'tls1.3';
  protocol_max?: 'tls1.2' | 'tls1.3';
  alpn?: string[];
  cipher_suites?: string[];
  curves?: string[];
  [k: string]: unknown;
}

/** `apps.http.servers.<name>`. */
export interface ServerConfig {
  listen: string[];
  routes?: RouteConfig[];
  errors?: { routes?: RouteConfig[] };
  /** Present (even `[{}]`) = this server speaks TLS. */
  tls_connection_policies?: TlsConnectionPolicy[];
  /** Access logs: one entry per `log` directive, with the hosts it covers. */
  logs?: AccessLogConfig[];
  /** `{ source: "static", ranges: [...] }` or a plain list of CIDRs (`private_ranges` allowed). */
  trusted_proxies?: { source?: string; ranges?: string[] } | string[];
  client_ip_headers?: string[];
  trusted_proxies_strict?: boolean;
  /** h1, h2 (h2c and h3 are not supported and ignored). Default h1 h2. */
  protocols?: string[];
  /** `disable` / `disable_redirects` / `skip` govern the automatic HTTP→HTTPS redirects (auto-https.ts). */
  automatic_https?: AutoHttpsConfig;
  [k: string]: unknown;
}

/** `apps.http`. */
export interface HttpAppConfig {
  servers?: Record<string, ServerConfig>;
  /** The raw `servers` global option (see globalServerOptions). */
  server_options?: unknown;
  http_port?: number;
  https_port?: number;
  grace_period?: string | number;
  shutdown_delay?: string | number;
  /** Caddy's HTTP metrics (`caddy_http_*`), see metrics.ts. */
  metrics?: HttpMetricsConfig;
  [k: string]: unknown;
}

const SERVER_KEYS = new Set([
  'listen', 'routes', 'errors', 'tls_connection_policies', 'logs', 'trusted_proxies', 'client_ip_headers',
  'trusted_proxies_strict', 'protocols', 'automatic_https', 'read_timeout', 'read_header_timeout', 'write_timeout',
  'idle_timeout', 'keepalive_interval', 'max_header_bytes', 'listener_wrappers', 'strict_sni_host', 'metrics', 'name',
  'enable_full_duplex', 'log_credentials', '@span',
]);
const APP_KEYS = new Set(['servers', 'http_port', 'https_port', 'grace_period', 'shutdown_delay', 'server_options', 'metrics', '@span']);

interface Built { name: string; config: ServerConfig; runtime: ServerRuntime; listeners: Listener[]; tls: boolean }

export class HttpApp implements App {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: HttpAppConfig;
  #ctx: ModuleContext | undefined;
  #servers: Built[] = [];
  #tls: TlsApp | undefined;
  #ownTls: TlsApp | undefined;
  #released = false;

  constructor(config: HttpAppConfig) {
    this.config = config;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    this.#ctx = ctx;
    for (const k of Object.keys(this.config)) {
      if (!APP_KEYS.has(k)) throw new ConfigError('ERR_CFG_JSON', undefined, `apps.http: unknown field '${k}'`);
    }
    const claimed = new Map<string, string>();
    // Caddy's automatic HTTP→HTTPS redirects are added here, not in the config (auto-https.ts).
    const servers = withAutoRedirects(this.config.servers ?? {}, this.config.http_port ?? 80, this.config.https_port ?? 443);
    for (const [name, config] of Object.entries(servers)) {
      for (const k of Object.keys(config)) {
        if (!SERVER_KEYS.has(k)) throw new ConfigError('ERR_CFG_JSON', undefined, `apps.http.servers.${name}: unknown field '${k}'`);
      }
      if (!Array.isArray(config.listen) || config.listen.length === 0) {
        throw new ConfigError('ERR_CFG_JSON', undefined, `apps.http.servers.${name}: listen must be a non-empty list of addresses`);
      }
      const addresses = config.listen.map(parseListenAddress);
      for (const a of addresses) {
        const other = claimed.get(a.key);
        if (other) throw new ConfigError('ERR_CFG_VALUE', undefined, `server ${name}: listener address repeated: ${a.key} (already claimed by server '${other}')`);
        claimed.set(a.key, name);
      }
      const global = globalServerOptions(this.config.server_options);
      const tp = config.trusted_proxies ?? global.trusted_proxies;
      const ranges = Array.isArray(tp) ? tp : tp?.ranges;
      const logs = (config.logs ?? []).map((l) => new AccessLog(l, name));
      // Older Caddy JSON turns metrics on per server (`servers.X.metrics: {}`).
      const metricsConfig = this.config.metrics ?? (config.metrics as HttpMetricsConfig | undefined);
      const metrics = metricsConfig
        ? new ServerMetrics(ctx.app.metrics, metricsConfig, name, siteHosts(config.routes ?? []), Array.isArray(config.tls_connection_policies))
        : undefined;
      if (metricsConfig?.otlp) ctx.log.warn('metrics otlp: pushing metrics over OTLP is not supported by this server; use the Prometheus endpoint');
      const runtime = new ServerRuntime({
        name,
        routes: await compileRoutes(ctx, config.routes, metrics && ((handler, run) => metrics.instrument(handler, run))),
        errors: config.errors?.routes?.length ? await compileRoutes(ctx, config.errors.routes) : undefined,
        logs,
        log: ctx.log.child({ server: name }),
        trustedProxies: ranges?.length ? parseRanges(ranges) : undefined,
        clientIpHeaders: config.client_ip_headers ?? global.client_ip_headers ?? ['X-Forwarded-For'],
        trustedProxiesStrict: (config.trusted_proxies_strict ?? global.trusted_proxies_strict) === true,
        serverHeader: 'Quicksilver',
      });
      const built: Built = { name, config, runtime, listeners: [], tls: Array.isArray(config.tls_connection_policies) };
      this.#servers.push(built);
      for (const l of logs) await l.open(ctx.pool);
      for (const a of addresses) built.listeners.push(await acquireListener(ctx.pool, a));
    }
    if (this.#servers.some((s) => s.tls)) {
      this.#tls = ctx.app.registry.get('apps.tls') as TlsApp | undefined;
      if (!(this.#tls instanceof TlsApp)) {
        this.#ownTls = this.#tls = new TlsApp({});
        await this.#ownTls.provision(ctx);
      }
      for (const s of this.#servers.filter((x) => x.tls)) await this.#tls.ensure(siteHosts(s.config.routes ?? []));
    }
  }

  async start(): Promise<void> {
    for (const s of this.#servers) {
      if (s.tls) {
        const policy = s.config.tls_connection_policies?.[0] ?? {};
        const protocols = s.config.protocols ?? ['h1', 'h2'];
        s.runtime.create({ ...this.#tls!.serverOptions(), minVersion: policy.protocol_min === 'tls1.3' ? 'TLSv1.3' : 'TLSv1.2', maxVersion: policy.protocol_max === 'tls1.2' ? 'TLSv1.2' : 'TLSv1.3', h2: protocols.includes('h2') });
      } else s.runtime.create();
    }
    for (const s of this.#servers) {
      for (const l of s.listeners) await l.listen();
    }
    for (const s of this.#servers) {
      for (const l of s.listeners) { l.target = s.runtime.accept; l.owner = s.runtime; }
      this.#ctx?.log.info({ server: s.name, listen: s.config.listen, tls: s.tls }, 'server running');
    }
  }

  async stop(graceMs: number): Promise<void> {
    // Release the listeners first: on a reload the new app holds them and keeps
    // accepting; on a final stop the last reference closes the listening socket,
    // so new connections are refused at once while in-flight requests finish.
    await this.#release();
    // A server whose every listener lives on (a reload kept them) keeps its open streams.
    const pool = this.#ctx?.pool;
    const kept = (s: Built) => pool !== undefined && s.listeners.every((l) => pool.references(listenerKey(l.address)) > 0);
    await Promise.all(this.#servers.map((s) => s.runtime.stop(graceMs, kept(s))));
  }

  async cleanup(): Promise<void> {
    await this.#release();
    for (const s of this.#servers) for (const l of s.config.logs ? s.runtime.opts.logs : []) await l.close();
    await this.#ownTls?.cleanup();
  }

  async #release(): Promise<void> {
    if (this.#released || !this.#ctx) return;
    this.#released = true;
    for (const s of this.#servers) {
      for (const l of s.listeners) {
        if (l.owner === s.runtime) { l.target = undefined; l.owner = undefined; }
        await this.#ctx.pool.release(listenerKey(l.address));
      }
    }
  }

  /** The bound port of a server's first (or given) listen address; for tests and `:0`. */
  port(server: string, index = 0): number {
    return this.#servers.find((s) => s.name === server)?.listeners[index]?.port() ?? 0;
  }

  /** The running server runtimes, by name. */
  server(name: string): ServerRuntime | undefined {
    return this.#servers.find((s) => s.name === name)?.runtime;
  }
}

type Raw = { args?: string[]; block?: Record<string, Raw | Raw[]> };

/**
 * The `servers { … }` global option as the adapter passes it (raw lines):
 * trusted_proxies static <ranges…>, client_ip_headers, trusted_proxies_strict
 * are applied to every server; the other settings are accepted and ignored.
 */
export function globalServerOptions(raw: unknown): Pick<ServerConfig, 'trusted_proxies' | 'client_ip_headers' | 'trusted_proxies_strict'> {
  const out: Pick<ServerConfig, 'trusted_proxies' | 'client_ip_headers' | 'trusted_proxies_strict'> = {};
  for (const entry of (Array.isArray(raw) ? raw : []) as Raw[]) {
    const first = (v: Raw | Raw[] | undefined) => (Array.isArray(v) ? v[0] : v);
    const tp = first(entry.block?.trusted_proxies);
    if (tp?.args?.[0] === 'static') out.trusted_proxies = tp.args.slice(1);
    const ch = first(entry.block?.client_ip_headers);
    if (ch?.args?.length) out.client_ip_headers = ch.args;
    if (entry.block?.trusted_proxies_strict) out.trusted_proxies_strict = true;
  }
  return out;
}

/** Hosts named by top-level host matchers (what automatic HTTPS covers). */
export function siteHosts(routes: RouteConfig[]): string[] {
  const out = new Set<string>();
  for (const r of routes) {
    for (const set of r.match ?? []) {
      const hosts = set.host;
      if (Array.isArray(hosts)) for (const h of hosts) if (typeof h === 'string' && !h.includes('{')) out.add(h.toLowerCase());
    }
  }
  return [...out];
}
