/**
 * The shared test ModuleContext (test/helpers/module-context.ts) for one
 * "node", plus a settable storage, as the `storage` global option gives the host.
 */
import type { Module, ModuleConfig, ModuleContext, Storage } from '../../src/host/module.ts';
import type { UsagePool } from '../../src/host/usage-pool.ts';
import { registerStandardModules } from '../../src/runtime/standard.ts';
import { testModuleContext } from '../helpers/module-context.ts';

export interface TestContext extends ModuleContext {
  /** Cleans up every module loaded through this context (reverse order) and removes dataDir. */
  close(): Promise<void>;
  /** Loads a module and makes it this context's storage (as the `storage` global option does). */
  useStorage(config: ModuleConfig): Promise<Storage & Module>;
}

/** A context for one "node": pass the same pool to simulate a reload, a new one for another process. */
export async function testContext(opts: { pool?: UsagePool; registry?: Map<string, unknown> } = {}): Promise<TestContext> {
  registerStandardModules();
  const t = testModuleContext({ pool: opts.pool, registry: opts.registry });
  let storage: (Storage & Module) | undefined;
  t.ctx.storage = () => storage;
  return Object.assign(t.ctx, {
    close: () => t.cleanup(),
    async useStorage(config: ModuleConfig) {
      const loaded = await t.ctx.load<Storage & Module>(`caddy.storage.${String(config.module)}`, config);
      storage = loaded;
      return loaded;
    },
  });
}
