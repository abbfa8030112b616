/**
 * The Mercure hub's module info, for src/runtime/standard.ts.
 */
import type { ModuleInfo } from '../host/module.ts';
import type { MercureConfig } from './config.ts';
import { MercureHub } from './hub.ts';

/** `http.handlers.mercure`. */
export const mercureHandlerModule: ModuleInfo<MercureConfig, MercureHub> = {
  id: 'http.handlers.mercure',
  create: (config) => new MercureHub(config),
};

/** Registers the hub module (one line in src/runtime/standard.ts calls this). */
export function registerMercureModules(register: (info: ModuleInfo<any, any>) => void): void {
  register(mercureHandlerModule);
}
