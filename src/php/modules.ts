/** Registers the PHP front's modules (called once from src/standard.ts). */
import { registerModule } from '../host/module.ts';
import { PhpHandler, type PhpHandlerConfig } from './handler.ts';

export function registerPhpModules(): void {
  registerModule({ id: 'http.handlers.php', create: (cfg: PhpHandlerConfig) => new PhpHandler(cfg) });
}
