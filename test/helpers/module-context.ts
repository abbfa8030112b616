/**
 * A real ModuleContext for tests that build modules directly (before or
 * without the host): a silent pino logger, a real UsagePool, a real
 * prom-client Registry, and load() running the full module lifecycle
 * (create → provision → validate; cleanup in reverse order).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { getModule, registerModule, type Module, type ModuleConfig, type ModuleContext, type ModuleInfo } from '../../src/host/module.ts';
import { UsagePool } from '../../src/host/usage-pool.ts';

/** Spread into a test-only module that has nothing to provision, validate or clean up. */
export const noLifecycle = { provision(): void {}, validate(): void {}, cleanup(): void {} };

/** Registers modules unless already registered (tests share one process-wide registry). */
export function ensureModules(infos: ModuleInfo<any, any>[]): void {
  for (const info of infos) if (!getModule(info.id)) registerModule(info);
}

export interface TestContext {
  ctx: ModuleContext;
  metrics: Registry;
  pool: UsagePool;
  registry: Map<string, unknown>;
  dataDir: string;
  /** Cleans up every loaded sub-module (reverse order) and removes the data dir if the helper made it. */
  cleanup(): Promise<void>;
}

export interface TestContextOptions {
  dataDir?: string;
  pool?: UsagePool;
  metrics?: Registry;
  registry?: Map<string, unknown>;
  /** ModuleContext.serving: start degraded when a backend is down (as `run` does), instead of failing. */
  serving?: boolean;
}

export function testModuleContext(opts: TestContextOptions = {}): TestContext {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'qs-mod-'));
  const pool = opts.pool ?? new UsagePool();
  const metrics = opts.metrics ?? new Registry();
  const registry = opts.registry ?? new Map<string, unknown>();
  const loaded: Module[] = [];
  const abort = new AbortController();
  const log = pino({ level: 'silent' });
  const ctx: ModuleContext = {
    log,
    signal: abort.signal,
    pool,
    dataDir,
    app: { metrics, registry },
    storage: () => undefined,
    serving: opts.serving,
    async load<M extends Module>(id: string, config: ModuleConfig): Promise<M> {
      const info = getModule(id);
      if (!info) throw new Error(`unknown module ${id}`);
      const m = info.create(config) as M;
      try {
        await m.provision({ ...ctx, log: ctx.log.child({ module: id }) });
        m.validate();
      } catch (err) {
        await m.cleanup();
        throw err;
      }
      loaded.push(m);
      return m;
    },
  };
  return {
    ctx, metrics, pool, registry, dataDir,
    async cleanup() {
      abort.abort();
      for (const m of loaded.reverse()) await m.cleanup();
      loaded.length = 0;
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
