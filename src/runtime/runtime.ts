/**
 * The process-level runtime: holds the running config, swaps configs
 * atomically (a new config that fails to load leaves the old one running),
 * keeps shared resources in one UsagePool across reloads (so an unchanged
 * listener keeps its socket), and runs the admin endpoint.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AdminServer, type AdminOptions } from './admin.ts';
import { Instance } from '../host/instance.ts';
import { UsagePool } from '../host/usage-pool.ts';
import { registerStandardModules } from './standard.ts';
import { recordReload } from '../host/reload-metrics.ts';

export interface RuntimeOptions { log: Logger; dataDir: string; onStop?: () => void }

/** Other processes serving the same config (the `workers` option): reloads reach them, metrics include them. */
export interface ProcessGroup {
  reload(config: Record<string, unknown>): Promise<void>;
  metrics(own: Awaited<ReturnType<Registry['getMetricsAsJSON']>>): Promise<Registry>;
}

export class Runtime {
  readonly log: Logger;
  readonly pool = new UsagePool();
  instance: Instance | undefined;
  admin: AdminServer | undefined;
  /** The admin endpoint's actual address once listening (host:port). */
  adminAddress: string | undefined;
  #opts: RuntimeOptions;
  /** The log level the process started with (QS_LOG_LEVEL), restored when a config drops `debug`. */
  readonly #baseLevel: string;
  #queue: Promise<unknown> = Promise.resolve();
  /** Set by `run` when it supervises workers. */
  group: ProcessGroup | undefined;

  constructor(opts: RuntimeOptions) {
    registerStandardModules();
    this.#opts = opts;
    this.log = opts.log;
    this.#baseLevel = opts.log.level;
  }

  /** Loads config, replacing the running one. Identical configs are skipped unless force. Serialised. */
  load(config: Record<string, unknown>, force = false): Promise<void> {
    const next = this.#queue.then(() => this.#load(config, force));
    next.then(() => recordReload(true), () => recordReload(false));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #load(config: Record<string, unknown>, force: boolean): Promise<void> {
    if (!force && this.instance && isDeepStrictEqual(this.instance.config, config)) {
      this.log.info('config is unchanged; nothing to do');
      return;
    }
    // The `debug` global option (logging.level) applies to this config's modules.
    const previousLevel = this.log.level;
    const level = (config.logging as { level?: string } | undefined)?.level;
    this.log.level = level ? level.toLowerCase() : this.#baseLevel;
    const fresh = new Instance(config, { log: this.log, pool: this.pool, dataDir: this.#opts.dataDir, serving: true });
    try {
      await fresh.provision();
    } catch (e) {
      this.log.level = previousLevel;
      throw e;
    }
    try {
      await fresh.start();
    } catch (e) {
      await fresh.stop(0).catch(() => undefined);
      await fresh.cleanup();
      throw e;
    }
    const old = this.instance;
    this.instance = fresh;
    if (old) { await old.stop(old.graceMs()); await old.cleanup(); }
    await this.#adminFor(config);
    this.log.info(old ? 'config reloaded' : 'config loaded');
    if (old) await this.group?.reload(config);
  }

  async #adminFor(config: Record<string, unknown>): Promise<void> {
    const a = (config.admin ?? {}) as AdminOptions & { disabled?: boolean };
    const want = a.disabled ? undefined : (a.listen ?? process.env.CADDY_ADMIN ?? 'localhost:2019');
    if (this.admin && this.admin.address === want) { this.admin.configure(a); return; }
    if (this.admin) { await this.admin.close(); this.admin = undefined; this.adminAddress = undefined; }
    if (!want) return;
    const admin = new AdminServer(want, this, a);
    try {
      this.adminAddress = await admin.listen();
      this.admin = admin;
      this.log.info({ logger: 'admin', address: this.adminAddress }, 'admin endpoint started');
    } catch (err) {
      this.log.error({ logger: 'admin', err, address: want }, 'admin endpoint could not start; continuing without it');
    }
  }

  /** Graceful stop: stop accepting, let in-flight requests finish within the grace period, clean up. */
  async stop(graceMs?: number): Promise<void> {
    await this.#queue;
    const inst = this.instance;
    this.instance = undefined;
    if (inst) {
      inst.shutdownNotice();
      await inst.stop(graceMs ?? inst.graceMs());
      await inst.cleanup();
    }
    if (this.admin) { await this.admin.close(); this.admin = undefined; }
  }

  /** The metrics the admin endpoint serves: this process's, summed with every worker's. */
  async metrics(): Promise<Registry | undefined> {
    const own = this.instance?.app.metrics;
    if (!own || !this.group) return own;
    return this.group.metrics(await own.getMetricsAsJSON());
  }

  /** Called by POST /stop. */
  requestStop(): void { this.#opts.onStop?.(); }
}
