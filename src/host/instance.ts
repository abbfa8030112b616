/**
 * One loaded config: its module tree, provisioned in dependency order
 * (storage, then apps: tls before http), started together, and cleaned up in
 * reverse order of provisioning. A module whose provision or validate fails is
 * cleaned up at once, and so is everything provisioned before it.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { ConfigError, QsError } from './errors.ts';
import {
  type App, type AppServices, type ShutdownListener, type Module, type ModuleConfig, type ModuleContext, type Storage, getModule,
} from './module.ts';
import type { UsagePool } from './usage-pool.ts';
import { toMs } from './duration.ts';
import { spanOf } from './span.ts';
import { registerReloadMetrics } from './reload-metrics.ts';
import { loggerName } from './log.ts';
import { CONFIG_SERVICE } from './services.ts';

export interface InstanceDeps {
  log: Logger; pool: UsagePool; dataDir: string;
  /** The config will serve (run, reload), not only be validated: see ModuleContext.serving. */
  serving?: boolean;
}


const APP_ORDER = ['tls', 'http'];

export class Instance {
  readonly config: Record<string, unknown>;
  readonly app: AppServices;
  #deps: InstanceDeps;
  #provisioned: { id: string; module: Module }[] = [];
  #apps: { name: string; app: App }[] = [];
  #storage: Storage | undefined;
  #abort = new AbortController();

  constructor(config: Record<string, unknown>, deps: InstanceDeps) {
    this.config = config;
    this.#deps = deps;
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    registerReloadMetrics(metrics);
    this.app = { metrics, registry: new Map<string, unknown>([[CONFIG_SERVICE, config]]) };
  }

  #context(id: string): ModuleContext {
    return {
      log: this.#deps.log.child({ logger: loggerName(id) }),
      signal: this.#abort.signal,
      pool: this.#deps.pool,
      load: (childId, cfg) => this.loadModule(childId, cfg),
      storage: () => this.#storage,
      app: this.app,
      dataDir: this.#deps.dataDir,
      serving: this.#deps.serving === true,
    };
  }

  /** create → provision → validate one module; on failure, cleans it up and throws with the config's span. */
  async loadModule<M extends Module>(id: string, cfg: ModuleConfig): Promise<M> {
    const info = getModule(id);
    if (!info) throw new ConfigError('ERR_MODULE_UNKNOWN', spanOf(cfg), `unknown module '${id}'`);
    const module = info.create(cfg) as M;
    try {
      await module.provision(this.#context(id));
      module.validate();
    } catch (e) {
      await Promise.resolve(module.cleanup()).catch((err) => this.#deps.log.warn({ err, module: id }, 'cleanup after failed provision failed'));
      if (e instanceof ConfigError) throw e;
      const code = e instanceof QsError ? e.code : 'ERR_MODULE_PROVISION';
      const where = cfg['@span'] ? ` (${cfg['@span']})` : '';
      throw new QsError(code, `provision ${id}: ${(e as Error).message}${where}`, { cause: e });
    }
    this.#provisioned.push({ id, module });
    return module;
  }

  /** Provisions storage and every app. On failure, cleans up whatever was provisioned, then throws. */
  async provision(): Promise<void> {
    try {
      const storage = this.config.storage as ModuleConfig | undefined;
      if (storage) this.#storage = await this.loadModule<Storage & Module>(`caddy.storage.${storage.module}`, storage);
      const apps = (this.config.apps ?? {}) as Record<string, ModuleConfig>;
      const names = Object.keys(apps).sort((a, b) => rank(a) - rank(b));
      for (const name of names) {
        const app = await this.loadModule<App>(`apps.${name}`, apps[name]!);
        this.app.registry.set(`apps.${name}`, app);
        this.#apps.push({ name, app });
      }
    } catch (e) {
      await this.cleanup();
      throw e;
    }
  }

  async start(): Promise<void> {
    for (const { app } of this.#apps) await app.start();
  }

  /** Grace period for stopping, from apps.http.grace_period (default 10s). */
  graceMs(): number {
    const http = (this.config.apps as Record<string, ModuleConfig> | undefined)?.http;
    return toMs(http?.grace_period, 10_000);
  }

  /** Tells registered services the process is stopping for good (see ShutdownListener). */
  shutdownNotice(): void {
    for (const v of this.app.registry.values()) {
      for (const s of v instanceof Set ? v : [v]) {
        if (typeof (s as Partial<ShutdownListener>)?.onShutdown === 'function') (s as ShutdownListener).onShutdown();
      }
    }
  }

  async stop(graceMs = this.graceMs()): Promise<void> {
    await Promise.all(this.#apps.map(({ app }) => app.stop(graceMs)));
  }

  /** Cleans up every provisioned module in reverse order. Safe to call twice. */
  async cleanup(): Promise<void> {
    this.#abort.abort();
    const list = this.#provisioned.splice(0).reverse();
    for (const { id, module } of list) {
      try { await module.cleanup(); } catch (err) { this.#deps.log.error({ err, module: id }, 'cleanup failed'); }
    }
    this.#apps = [];
  }
}

function rank(app: string): number {
  const i = APP_ORDER.indexOf(app);
  return i < 0 ? APP_ORDER.length : i;
}
