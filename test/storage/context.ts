/**
 * A small, real ModuleContext for tests that build modules straight from JSON
 * configs: pino at level silent, a real UsagePool, a real prom-client Registry.
 * `load()` creates → provisions → validates a registered module and remembers it
 * so `close()` cleans everything up in reverse order, as the host does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { type Module, type ModuleConfig, type ModuleContext, type Storage, getModule } from '../../src/host/module.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';
import { registerStandardModules } from '../../src/standard.ts';

export interface TestContext extends ModuleContext {
  /** Cleans up every module loaded through this context (reverse order) and removes dataDir. */
  close(): Promise<void>;
  /** Loads a module and makes it this context's storage (as the `storage` global option does). */
  useStorage(config: ModuleConfig): Promise<Storage & Module>;
}

/** A context for one "node": pass the same pool to simulate a reload, a new one for another process. */
export async function testContext(opts: { pool?: UsagePool; registry?: Map<string, unknown> } = {}): Promise<TestContext> {
  registerStandardModules();
  const loaded: Module[] = [];
  const abort = new AbortController();
  const dataDir = await mkdtemp(join(tmpdir(), 'qs-node-'));
  let storage: Storage | undefined;
  const ctx: TestContext = {
    log: pino({ level: 'silent' }),
    signal: abort.signal,
    pool: opts.pool ?? new UsagePool(),
    storage: () => storage,
    app: { metrics: new Registry(), registry: opts.registry ?? new Map() },
    dataDir,
    async load<M extends Module>(id: string, config: ModuleConfig): Promise<M> {
      const info = getModule(id);
      if (!info) throw new Error(`unknown module '${id}'`);
      const m = info.create(config) as M;
      try {
        await m.provision?.(ctx);
        m.validate?.();
      } catch (e) {
        await m.cleanup?.();
        throw e;
      }
      loaded.push(m);
      return m;
    },
    async useStorage(config) {
      const s = await ctx.load<Storage & Module>(`caddy.storage.${String(config.module)}`, config);
      storage = s;
      return s;
    },
    async close() {
      abort.abort();
      for (const m of loaded.splice(0).reverse()) await m.cleanup?.();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return ctx;
}
