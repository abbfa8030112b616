/**
 * The one module wrapper every transport uses: the transport (the shared
 * Fanout over a backend) lives in ctx.pool under the module ID plus a stable
 * key of its resolved config, so hubs with identical transport configs share
 * one transport (subscribers, history) and a reload that keeps the config
 * keeps the transport. A backend module supplies only how to build its backend.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Module, ModuleContext } from '../../host/module.ts';
import { stableKey, type UsagePool } from '../../host/usage-pool.ts';
import { Fanout } from './fanout.ts';
import { lateStart } from './late-start.ts';
import type { Backend, Transport } from './contract.ts';

/** What the hub gets from ctx.load('mercure.transports.<name>', config). */
export interface TransportModule extends Module {
  /** The shared transport; throws before provision. */
  readonly transport: Transport;
  /** Opens (or joins) the pooled transport. */
  provision(ctx: ModuleContext): Promise<void>;
  /** Releases it; the last user closes it. Safe after a failed provision, and twice. */
  cleanup(): Promise<void>;
  /** How to open the backend alone, without the pooled fan-out (the workers' backend host uses it). */
  recipe(ctx: ModuleContext): BackendRecipe;
}

/** How a backend module opens its backend: a pool key (any JSON) and a factory. */
export interface BackendRecipe {
  key: unknown;
  backend: () => Backend;
  /** Logged once the transport started (connection details, never secrets). */
  started?: Record<string, unknown>;
}

/** A readable node ID (host, process, random suffix), for CLIENT LIST, presence rows and logs. */
export function newNodeId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** One provisioned use of a pooled transport. */
export class PooledTransport implements TransportModule {
  /** Lifecycle: nothing to check. */
  validate(): void {}
  readonly #id: string;
  readonly #recipe: (ctx: ModuleContext) => BackendRecipe;
  #pool: UsagePool | undefined;
  #key: string | undefined;
  #transport: Fanout | undefined;

  constructor(id: string, recipe: (ctx: ModuleContext) => BackendRecipe) {
    this.#id = id;
    this.#recipe = recipe;
  }

  recipe(ctx: ModuleContext): BackendRecipe {
    return this.#recipe(ctx);
  }

  get transport(): Transport {
    if (!this.#transport) throw new Error(`${this.#id} is not provisioned`);
    return this.#transport;
  }

  async provision(ctx: ModuleContext): Promise<void> {
    const recipe = this.#recipe(ctx);
    const key = `${this.#id} ${stableKey(recipe.key)}`;
    this.#transport = await ctx.pool.loadOrNew(key, async () => {
      // A config that will serve starts even while its backend is down (not ready, 503s, connects later);
      // one that is only validated fails fast on an unreachable backend.
      const backend = ctx.serving ? lateStart(recipe.backend, { log: ctx.log }) : recipe.backend();
      const fanout = new Fanout(backend, { onError: (err, what) => ctx.log.warn({ err }, `${what} failed`) });
      try {
        await fanout.start();
      } catch (err) {
        await fanout.close().catch(() => {});
        throw err;
      }
      if (recipe.started) ctx.log.info(recipe.started, `${this.#id} started`);
      return fanout;
    });
    // Only a successful load holds a reference, so cleanup after a failed provision releases nothing.
    this.#pool = ctx.pool;
    this.#key = key;
  }

  async cleanup(): Promise<void> {
    const pool = this.#pool, key = this.#key;
    this.#pool = this.#key = this.#transport = undefined;
    if (pool && key) await pool.release(key);
  }
}
