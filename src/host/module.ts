/**
 * Modules: everything the host runs is a module registered under a dotted ID
 * (`http.handlers.respond`, `mercure.transports.redis`, `caddy.storage.redis`).
 * Lifecycle, as in Caddy: create (no side effects) → provision (open, connect,
 * start timers) → validate (pure checks) → … → cleanup (undo provision; must
 * also work after a provision that failed half-way).
 */
import type { Logger } from 'pino';
import type { UsagePool } from './usage-pool.ts';

/** Config objects are plain JSON. `@span` ("file:line:col") lets late errors cite the Caddyfile. */
export interface ModuleConfig {
  '@span'?: string;
  [key: string]: unknown;
}

export interface Provisioner { provision(ctx: ModuleContext): Promise<void> | void }
export interface Validator { validate(): void }
export interface CleanerUpper { cleanup(): Promise<void> | void }

/**
 * A running module instance. All three lifecycle methods are required, so the
 * compiler catches a missing or misspelt one (`provison`); a module with
 * nothing to do in a stage says so with an empty body.
 */
export interface Module extends Provisioner, Validator, CleanerUpper {}

export interface ModuleInfo<C extends ModuleConfig = ModuleConfig, M extends Module = Module> {
  /** Dotted ID: namespace + name, e.g. `http.handlers.mercure`. */
  id: string;
  /** Builds the instance from its config. No I/O, no timers. */
  create(config: C): M;
}

/** What a module gets while provisioning. */
export interface ModuleContext {
  /** pino child logger bound to { logger: <Caddy's logger name for the module> } (host/log.ts). */
  log: Logger;
  /** Aborted when the config that owns this module is unloaded. */
  signal: AbortSignal;
  /** Shared, ref-counted resources that survive a reload (transports, rate-limit zones, pools). */
  pool: UsagePool;
  /** Loads, provisions and validates a sub-module; the host cleans it up with its parent. */
  load<M extends Module>(id: string, config: ModuleConfig): Promise<M>;
  /** The host's storage module (`storage` global option), when one is configured. */
  storage(): Storage | undefined;
  /** App-wide registries (metrics, hubs for health checks, …), keyed by name. */
  app: AppServices;
  /** Directory for persistent data (bolt's default file lives here). */
  dataDir: string;
  /**
   * True when the config will serve (`run`, reloads). A module whose backend
   * is unreachable then starts degraded (not ready, 503) and connects when the
   * backend comes back. False or absent (`validate`): it fails fast.
   */
  serving?: boolean;
}

/** The key/value storage interface (Caddy's certmagic.Storage, trimmed to what we use). */
export interface Storage {
  store(key: string, value: Uint8Array): Promise<void>;
  load(key: string): Promise<Uint8Array | undefined>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  lock(name: string): Promise<void>;
  unlock(name: string): Promise<void>;
}

/**
 * A service in AppServices.registry (directly or inside a Set) that wants to
 * know the process is stopping for good, not reloading: e.g. the Mercure hub
 * ends its streams at once so clients reconnect elsewhere instead of holding
 * the process for the whole grace period.
 */
export interface ShutdownListener { onShutdown(): void }

/** Process-wide services shared by modules of one running config. */
export interface AppServices {
  /** prom-client registry exposed at the admin endpoint's /metrics. */
  metrics: import('prom-client').Registry;
  /** Named services (e.g. mercure hubs for /mercure/health/<name>/ready). */
  registry: Map<string, unknown>;
}

const modules = new Map<string, ModuleInfo<any, any>>();

/** Registers a module. Called from src/runtime/standard.ts, so the full list is in one place; registering the same info twice is a no-op. */
export function registerModule<C extends ModuleConfig, M extends Module>(info: ModuleInfo<C, M>): void {
  const known = modules.get(info.id);
  if (known === info) return;
  if (known) throw new Error(`module ${info.id} registered twice`);
  modules.set(info.id, info);
}

export function getModule(id: string): ModuleInfo | undefined {
  return modules.get(id);
}

/** All registered IDs, optionally under a namespace prefix (`mercure.transports.`). */
export function listModules(namespace = ''): string[] {
  return [...modules.keys()].filter((id) => id.startsWith(namespace)).sort();
}

/**
 * An app (`apps.http`, `apps.tls`): a module the host starts after every app
 * of the config has provisioned, and stops (gracefully) before cleanup.
 */
export interface App extends Module {
  start(): Promise<void>;
  /** Stop accepting work; let in-flight work finish within graceMs; then return. */
  stop(graceMs: number): Promise<void>;
}
