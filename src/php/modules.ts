/** Registers the PHP front's modules (called once from src/standard.ts). */
import { registerModule } from '../host/module.ts';
import { MercureHub } from '../mercure/hub.ts';
import { PhpHandler, type PhpHandlerConfig } from './handler.ts';

/** True when a config runs the PHP front: a `php` handler anywhere in it (php_server, php). */
export function runsPhp(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(runsPhp);
  if (node === null || typeof node !== 'object') return false;
  if ((node as { handler?: unknown }).handler === 'php') return true;
  return Object.values(node).some(runsPhp);
}

export function registerPhpModules(): void {
  registerModule({ id: 'http.handlers.php', create: (cfg: PhpHandlerConfig) => new PhpHandler(cfg) });
  // As FrankenPHP sets Mercure's AllowNoPublish: where PHP publishes with mercure_publish(), a hub may
  // omit the publisher key; its HTTP publish endpoint then answers 405. Configs without PHP keep the
  // reference hub's error.
  MercureHub.allowNoPublishIn = runsPhp;
}
