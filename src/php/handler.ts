/**
 * `http.handlers.php` (the `php` and `php_server` directives): runs PHP in a
 * managed php-fpm (fpm.ts) and proxies to it with the fastcgi transport, as
 * reverse_proxy does. The master and the mercure_publish() channel are shared
 * through the usage pool, keyed by the frankenphp settings, so a reload with
 * the same settings keeps them running; per-site options (root, split, env)
 * stay in the handler. PHP's stderr (warnings, error_log()) reaches the log.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ModuleContext } from '../host/module.ts';
import { stableKey } from '../host/usage-pool.ts';
import type { HandlerConfig, HttpContext, HttpHandler, Next } from '../http/handler.ts';
import { MercureHub } from '../mercure/hub.ts';
import { FpmMaster, type FpmSettings } from './fpm.ts';
import { PublishChannel } from './publish-channel.ts';

export interface PhpHandlerConfig extends HandlerConfig {
  handler: 'php';
  root?: string;
  split_path?: string[];
  env?: Record<string, string>;
  resolve_root_symlink?: boolean;
  /** The global `frankenphp` option, copied in by the adapter. */
  frankenphp?: FpmSettings & { workers?: unknown[] };
}

const PREPEND = readFileSync(new URL('./prepend.php', import.meta.url), 'utf8');

/** A php-fpm master and its publish channel, as one pooled resource. */
export class ManagedPhp {
  readonly fpm: FpmMaster;
  readonly channel: PublishChannel;

  constructor(settings: FpmSettings, log: Logger) {
    this.fpm = new FpmMaster(settings, log, PREPEND);
    this.channel = new PublishChannel(this.fpm.publishSocket, log);
  }

  async start(): Promise<void> {
    try {
      await this.channel.listen();
      await this.fpm.start();
    } catch (err) {
      await this.destruct();
      throw err;
    }
  }

  async destruct(): Promise<void> {
    await this.channel.close();
    await this.fpm.destruct();
  }
}

/** The newest Mercure hub registered in this config's app registry. */
function newestHub(registry: Map<string, unknown>): MercureHub | undefined {
  let hub: MercureHub | undefined;
  for (const [k, v] of registry) {
    if (!k.startsWith('mercure.hub.') || !(v instanceof Set)) continue;
    for (const h of v) if (h instanceof MercureHub) hub = h;
  }
  return hub;
}

export class PhpHandler implements HttpHandler {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly config: PhpHandlerConfig;
  #ctx: ModuleContext | undefined;
  #key = '';
  #php: ManagedPhp | undefined;
  #proxy: HttpHandler | undefined;

  constructor(config: PhpHandlerConfig) {
    this.config = config;
  }

  /** The managed php-fpm (tests read its pid and socket). */
  get managed(): ManagedPhp | undefined { return this.#php; }

  async provision(ctx: ModuleContext): Promise<void> {
    this.#ctx = ctx;
    const f = this.config.frankenphp ?? {};
    const settings: FpmSettings = {
      ...(f.num_threads !== undefined ? { num_threads: f.num_threads } : {}),
      ...(f.max_threads !== undefined ? { max_threads: f.max_threads } : {}),
      ...(f.max_requests !== undefined ? { max_requests: f.max_requests } : {}),
      ...(f.php_ini ? { php_ini: f.php_ini } : {}),
    };
    const key = `php.fpm:${stableKey(settings)}`;
    const log = ctx.log;
    this.#php = await ctx.pool.loadOrNew(key, async () => {
      const m = new ManagedPhp(settings, log);
      await m.start();
      log.info({ dir: m.fpm.dir, pid: m.fpm.pid, max_children: m.fpm.maxChildren }, 'php-fpm started');
      return m;
    });
    this.#key = key;
    const registry = ctx.app.registry;
    this.#php.channel.findHub = () => newestHub(registry);
    this.#proxy = await ctx.load<HttpHandler>('http.handlers.reverse_proxy', {
      handler: 'reverse_proxy',
      upstreams: [{ dial: `unix/${this.#php.fpm.socket}` }],
      transport: {
        protocol: 'fastcgi',
        ...(this.config.root !== undefined ? { root: this.config.root } : {}),
        split_path: this.config.split_path ?? ['.php'],
        env: this.config.env ?? {},
        resolve_root_symlink: this.config.resolve_root_symlink !== false,
        capture_stderr: true,
        max_conns: this.#php.fpm.maxChildren,
      },
    });
  }

  async serveHTTP(c: HttpContext, next: Next): Promise<void> {
    // While the master restarts, wait for it rather than fail at once; a failed start gives the proxy's 502.
    await this.#php!.fpm.ready().catch(() => undefined);
    return this.#proxy!.serveHTTP(c, next);
  }

  async cleanup(): Promise<void> {
    if (this.#ctx && this.#key) await this.#ctx.pool.release(this.#key);
    this.#key = '';
  }
}
